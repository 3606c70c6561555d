// The correction pass's rows in OpenCV's 128-bit universal intrinsics: NEON on
// arm64 (the Raspberry Pi), SSE on x86-64 without AVX2. One source, the same
// bytes as the scalar rows (the exhaustive tests run it on both
// architectures). OpenCV is a dependency already; its intrinsics are what its
// own imgproc uses on NEON, so no other SIMD library is needed.
#include "kernels/correct_rows.hpp"

#include <algorithm>
#include <cstring>

#include <opencv2/core/hal/intrin.hpp>

namespace seg::kernels::rows {

#if CV_SIMD128

namespace {

// As the AVX2 row (correct_avx2.cpp): floor(P / Q) from a float32 estimate,
// exact integer quotients from the LUT. Here the estimate is a true division
// (NEON and SSE divide in one instruction; relative error <= 2^-24, well
// inside the 2.6e-7 that truncates right), so no reciprocal refinement.
void correct_row_simd128(const std::uint8_t* f, const std::uint8_t* g, std::uint8_t* d, int len,
                         const std::uint8_t* lut) {
  const cv::v_float32x4 kp = cv::v_setall_f32(correct_p);
  const cv::v_float32x4 kq = cv::v_setall_f32(correct_q);
  const cv::v_float32x4 half = cv::v_setall_f32(0.5f); // g = 0: P / 0.5 >= 255 unless f = 0
  int x = 0;
  for (; x + 16 <= len; x += 16) {
    cv::v_uint16x8 f16[2], g16[2];
    cv::v_expand(cv::v_load(f + x), f16[0], f16[1]);
    cv::v_expand(cv::v_load(g + x), g16[0], g16[1]);
    cv::v_int32x4 q32[4];
    unsigned exact_lanes = 0;
    for (int k = 0; k < 4; ++k) {
      cv::v_uint32x4 fi[2], gi[2];
      cv::v_expand(f16[k / 2], fi[0], fi[1]);
      cv::v_expand(g16[k / 2], gi[0], gi[1]);
      const cv::v_float32x4 p = cv::v_cvt_f32(cv::v_reinterpret_as_s32(fi[k % 2])) * kp;
      const cv::v_float32x4 q =
          cv::v_max(cv::v_cvt_f32(cv::v_reinterpret_as_s32(gi[k % 2])) * kq, half);
      const cv::v_float32x4 est = p / q;
      const cv::v_float32x4 nearest = cv::v_cvt_f32(cv::v_round(est));
      exact_lanes |= static_cast<unsigned>(cv::v_signmask(nearest * q == p)) << (4 * k);
      q32[k] = cv::v_trunc(est); // est < 2^22: no overflow
    }
    // Signed saturation to 32767, then unsigned to 255: the clip at 255.
    const cv::v_uint8x16 bytes =
        cv::v_pack_u(cv::v_pack(q32[0], q32[1]), cv::v_pack(q32[2], q32[3]));
    if (exact_lanes == 0) {
      cv::v_store(d + x, bytes);
      continue;
    }
    // Patched before the store: d may be f (in-place correction).
    std::uint8_t patched[16];
    cv::v_store(patched, bytes);
    for (; exact_lanes; exact_lanes &= exact_lanes - 1) {
      const int j = __builtin_ctz(exact_lanes);
      patched[j] = lut[f[x + j] << 8 | g[x + j]];
    }
    std::memcpy(d + x, patched, sizeof patched);
  }
  correct_row_lut(f + x, g + x, d + x, len - x, lut);
}

// 16 pixels per step: a 3-way deinterleaving load, then (b, g) and (r, 1)
// 16-bit pairs, one dot product each with (gray_b, gray_g) and (gray_r, half).
void gray_row_simd128(const std::uint8_t* bgr, std::uint8_t* gray, int n) {
  const cv::v_int16x8 cbg = cv::v_reinterpret_as_s16(cv::v_setall_u32(gray_g << 16 | gray_b));
  const cv::v_int16x8 cr1 =
      cv::v_reinterpret_as_s16(cv::v_setall_u32((1u << (gray_shift - 1)) << 16 | gray_r));
  const cv::v_uint16x8 ones = cv::v_setall_u16(1);
  auto descale = [&](const cv::v_uint16x8& bg, const cv::v_uint16x8& r1) {
    return cv::v_dotprod(cv::v_reinterpret_as_s16(bg), cbg,
                         cv::v_dotprod(cv::v_reinterpret_as_s16(r1), cr1)) >>
           gray_shift;
  };
  int x = 0;
  for (; x + 16 <= n; x += 16) {
    cv::v_uint8x16 b, g, r;
    cv::v_load_deinterleave(bgr + 3 * x, b, g, r);
    cv::v_uint16x8 b16[2], g16[2], r16[2];
    cv::v_expand(b, b16[0], b16[1]);
    cv::v_expand(g, g16[0], g16[1]);
    cv::v_expand(r, r16[0], r16[1]);
    cv::v_int32x4 s[4];
    for (int h = 0; h < 2; ++h) {
      cv::v_uint16x8 bg[2], r1[2];
      cv::v_zip(b16[h], g16[h], bg[0], bg[1]);
      cv::v_zip(r16[h], ones, r1[0], r1[1]);
      s[2 * h] = descale(bg[0], r1[0]);
      s[2 * h + 1] = descale(bg[1], r1[1]);
    }
    cv::v_store(gray + x, cv::v_pack_u(cv::v_pack(s[0], s[1]), cv::v_pack(s[2], s[3])));
  }
  gray_row_scalar(bgr + 3 * x, gray + x, n - x);
}

// As the AVX2 row: the background's 8 values by byte compares, 16 at a time.
void histogram_row_simd128(const std::uint8_t* g, int n, histogram_acc& acc) {
  constexpr int window = histogram_acc::window;
  const cv::v_uint8x16 bias = cv::v_setall_u8(histogram_acc::window_lo);
  const cv::v_uint8x16 last = cv::v_setall_u8(window - 1);
  cv::v_uint8x16 value[window];
  for (int k = 0; k < window; ++k)
    value[k] = cv::v_setall_u8(static_cast<std::uint8_t>(k));
  int x = 0;
  while (x + 16 <= n) {
    // Byte counters: flushed at most every 255 blocks.
    cv::v_uint8x16 c[window];
    for (auto& v : c)
      v = cv::v_setzero_u8();
    const int end = std::min(n - 15, x + 255 * 16);
    for (; x < end; x += 16) {
      const cv::v_uint8x16 d = cv::v_sub_wrap(cv::v_load(g + x), bias);
      for (int k = 0; k < window; ++k) // a match is 0xff: subtracting counts it
        c[k] = cv::v_sub_wrap(c[k], d == value[k]);
      auto outside = ~static_cast<unsigned>(cv::v_signmask(cv::v_min(d, last) == d)) & 0xffffu;
      for (; outside; outside &= outside - 1)
        ++acc.h[outside & 3][g[x + __builtin_ctz(outside)]];
    }
    for (int k = 0; k < window; ++k)
      acc.in_window[static_cast<std::size_t>(k)] += cv::v_reduce_sum(c[k]);
  }
  acc.add_scalar(g + x, n - x);
}

} // namespace

const row_set* simd128_rows() {
  static const row_set set{correct_row_simd128, gray_row_simd128, histogram_row_simd128};
  return &set;
}

#else

const row_set* simd128_rows() { return nullptr; }

#endif

} // namespace seg::kernels::rows
