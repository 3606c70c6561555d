#include "kernels/correct.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include <opencv2/core.hpp>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SEG_CORRECT_AVX2 1
#endif

namespace seg::kernels {

namespace {

std::array<std::uint8_t, 65536> make_lut() {
  std::array<std::uint8_t, 65536> lut{};
  constexpr double imin = 0.0, imax = 1.04, omin = 0.0, omax = 255.0;
  for (int f = 0; f < 256; ++f) {
    for (int g = 0; g < 256; ++g) {
      const double c = static_cast<double>(f) / static_cast<double>(g);
      std::uint8_t out = 0; // numpy's NaN -> uint8 cast gives 0 on x86
      if (!std::isnan(c)) {
        const double clipped = std::min(std::max(c, imin), imax);
        const double v = (clipped - imin) / (imax - imin) * (omax - omin) + omin;
        out = static_cast<std::uint8_t>(static_cast<int>(v)); // truncation
      }
      lut[static_cast<std::size_t>(f << 8 | g)] = out;
    }
  }
  return lut;
}

void correct_row_lut(const std::uint8_t* f, const std::uint8_t* g, std::uint8_t* d, int len,
                     const std::uint8_t* lut) {
  int x = 0;
  for (; x + 4 <= len; x += 4) {
    d[x] = lut[f[x] << 8 | g[x]];
    d[x + 1] = lut[f[x + 1] << 8 | g[x + 1]];
    d[x + 2] = lut[f[x + 2] << 8 | g[x + 2]];
    d[x + 3] = lut[f[x + 3] << 8 | g[x + 3]];
  }
  for (; x < len; ++x)
    d[x] = lut[f[x] << 8 | g[x]];
}

#ifdef SEG_CORRECT_AVX2
// The LUT costs ~6 instructions per byte. Here: the reference's value is
// min(255, floor(6375 f / (26 g))) (x/0 -> 255, 0/0 -> 0), because a
// non-integer quotient is >= 1/(26 g) >= 1.5e-4 from an integer, far more than
// the error of float64 (reference) or of one correctly rounded float32
// division (here, <= 1.5e-5). Only exact integer quotients can differ (the
// reference's three float64 roundings may land just below, e.g. 26/51 -> 124);
// those lanes are rare and are taken from the LUT.
__attribute__((target("avx2"))) void correct_row_avx2(const std::uint8_t* f,
                                                      const std::uint8_t* g, std::uint8_t* d,
                                                      int len, const std::uint8_t* lut) {
  const __m256 kf = _mm256_set1_ps(6375.0f);
  const __m256 kg = _mm256_set1_ps(26.0f);
  const __m256 tiny = _mm256_set1_ps(1e-30f); // g = 0: 0/tiny = 0, f/tiny = huge
  const __m256 top = _mm256_set1_ps(255.0f);
  const __m256 zero = _mm256_setzero_ps();
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int x = 0;
  for (; x + 32 <= len; x += 32) {
    __m256i q32[4];
    unsigned exact_lanes = 0;
    for (int k = 0; k < 4; ++k) {
      const __m256i fi =
          _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(f + x + 8 * k)));
      const __m256i gi =
          _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g + x + 8 * k)));
      const __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(fi), kf);
      const __m256 q = _mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(gi), kg), tiny);
      const __m256 t = _mm256_round_ps(_mm256_min_ps(_mm256_div_ps(p, q), top),
                                       _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m256 exact = _mm256_and_ps(
          _mm256_cmp_ps(_mm256_mul_ps(t, q), p, _CMP_EQ_OQ),
          _mm256_and_ps(_mm256_cmp_ps(t, top, _CMP_LT_OQ), _mm256_cmp_ps(t, zero, _CMP_GT_OQ)));
      exact_lanes |= static_cast<unsigned>(_mm256_movemask_ps(exact)) << (8 * k);
      q32[k] = _mm256_cvttps_epi32(t);
    }
    const __m256i a = _mm256_packus_epi32(q32[0], q32[1]);
    const __m256i b = _mm256_packus_epi32(q32[2], q32[3]);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(a, b), order);
    if (exact_lanes == 0) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + x), bytes);
      continue;
    }
    // Patched before the store: d may be f (in-place correction).
    alignas(32) std::uint8_t patched[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(patched), bytes);
    while (exact_lanes) {
      const int j = __builtin_ctz(exact_lanes);
      patched[j] = lut[f[x + j] << 8 | g[x + j]];
      exact_lanes &= exact_lanes - 1;
    }
    std::memcpy(d + x, patched, sizeof patched);
  }
  correct_row_lut(f + x, g + x, d + x, len - x, lut);
}
#endif

} // namespace

const std::uint8_t* correction_lut() {
  static const std::array<std::uint8_t, 65536> lut = make_lut();
  return lut.data();
}

void correct_frame(const cv::Mat& frame, const cv::Mat& flat, cv::Mat& out) {
  CV_Assert(frame.type() == CV_8UC3 && flat.type() == CV_8UC3);
  CV_Assert(frame.size() == flat.size());
  // In place (out is frame) is fine: each byte is read before it is written.
  CV_Assert(out.data == nullptr || out.data != flat.data);
  out.create(frame.size(), CV_8UC3);
  const std::uint8_t* lut = correction_lut();
  auto row = correct_row_lut;
#ifdef SEG_CORRECT_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2)
    row = correct_row_avx2;
#endif
  const int len = frame.cols * 3;
  for (int y = 0; y < frame.rows; ++y)
    row(frame.ptr<std::uint8_t>(y), flat.ptr<std::uint8_t>(y), out.ptr<std::uint8_t>(y), len, lut);
  if (!out.empty()) {
    // The reference blackens pixel (0,0) before rescaling (SPEC §2.2).
    std::uint8_t* p = out.ptr<std::uint8_t>(0);
    p[0] = p[1] = p[2] = 0;
  }
}

cv::Mat correct_frame(const cv::Mat& frame, const cv::Mat& flat) {
  cv::Mat out;
  correct_frame(frame, flat, out);
  return out;
}

} // namespace seg::kernels
