// The AVX2 rows of the correction pass (x86-64; chosen at run time when the
// CPU has AVX2, FMA, POPCNT and BMI). Bit-exact with the scalar rows: the
// exhaustive tests in tests/kernels/correct_test.cpp run every path.
#include "kernels/correct_rows.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

namespace seg::kernels::rows {

namespace {

// The LUT costs ~6 instructions per byte. Here: the reference's value is
// min(255, floor(P / Q)) with P = 6375 f, Q = 26 g (x/0 -> 255, 0/0 -> 0). A
// non-integer P/Q is >= 1/Q >= 1.5e-4 from an integer, so for P/Q < 257 any
// estimate within 6.7e-5 (relative 2.6e-7) truncates to the right value. The
// estimate is P times a reciprocal of Q refined by one Newton step (relative
// error <= (1.5 * 2^-12)^2 plus roundings, ~2e-7), no division. Only exact
// integer quotients can differ (the estimate may land just below, and the
// reference's three float64 roundings may too, e.g. 26/51 -> 124); those
// lanes are rare, found exactly (round(P/Q) * Q == P in exact float
// integers), and taken from the LUT.
__attribute__((target("avx2,fma"))) void correct_row_avx2(const std::uint8_t* f,
                                                          const std::uint8_t* g,
                                                          std::uint8_t* d, int len,
                                                          const std::uint8_t* lut) {
  const __m256 kf = _mm256_set1_ps(correct_p);
  const __m256 kg = _mm256_set1_ps(correct_q);
  const __m256 half = _mm256_set1_ps(0.5f); // g = 0: P / 0.5 >= 255 unless f = 0
  const __m256 one = _mm256_set1_ps(1.0f);
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
      const __m256 q = _mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(gi), kg), half);
      const __m256 r0 = _mm256_rcp_ps(q);
      const __m256 r = _mm256_fmadd_ps(r0, _mm256_fnmadd_ps(q, r0, one), r0);
      const __m256 est = _mm256_mul_ps(p, r);
      const __m256 nearest = _mm256_round_ps(est, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      // f = 0 lanes test exact too; the LUT gives them their 0.
      const __m256 exact = _mm256_cmp_ps(_mm256_mul_ps(nearest, q), p, _CMP_EQ_OQ);
      exact_lanes |= static_cast<unsigned>(_mm256_movemask_ps(exact)) << (8 * k);
      q32[k] = _mm256_cvttps_epi32(est); // est < 2^22: no overflow
    }
    // Signed saturation to 32767, then unsigned to 255: the clip at 255.
    const __m256i a = _mm256_packs_epi32(q32[0], q32[1]);
    const __m256i b = _mm256_packs_epi32(q32[2], q32[3]);
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

__attribute__((target("avx2"))) inline __m256i both_lanes(char a0, char a1, char a2, char a3,
                                                        char a4, char a5, char a6, char a7,
                                                        char a8, char a9, char a10, char a11,
                                                        char a12, char a13, char a14, char a15) {
  return _mm256_broadcastsi128_si256(
      _mm_setr_epi8(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15));
}

__attribute__((target("avx2"))) inline __m256i load_lanes(const std::uint8_t* lo,
                                                         const std::uint8_t* hi) {
  return _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lo))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(hi)), 1);
}

// (b, g) and (r, 1) 16-bit pairs: one multiply-add each gives the sums.
__attribute__((target("avx2"))) inline __m256i descale(__m256i bg, __m256i r1) {
  const __m256i cbg = _mm256_set1_epi32(gray_g << 16 | gray_b);
  const __m256i cr1 = _mm256_set1_epi32((1 << (gray_shift - 1)) << 16 | gray_r);
  return _mm256_srli_epi32(
      _mm256_add_epi32(_mm256_madd_epi16(bg, cbg), _mm256_madd_epi16(r1, cr1)), gray_shift);
}

__attribute__((target("avx2"))) void gray_row_avx2(const std::uint8_t* bgr, std::uint8_t* gray,
                                                   int n) {
  // 32 pixels (96 bytes) per step: lane 0 holds pixels 0-15, lane 1 pixels
  // 16-31; byte shuffles deinterleave B, G and R within each lane.
  const __m256i b0 = both_lanes(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b1 = both_lanes(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1);
  const __m256i b2 = both_lanes(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13);
  const __m256i g0 = both_lanes(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i g1 = both_lanes(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1);
  const __m256i g2 = both_lanes(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14);
  const __m256i r0 = both_lanes(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i r1 = both_lanes(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1);
  const __m256i r2 = both_lanes(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15);
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i zero = _mm256_setzero_si256();
  int x = 0;
  for (; x + 32 <= n; x += 32) {
    const std::uint8_t* p = bgr + 3 * x;
    const __m256i c0 = load_lanes(p, p + 48);
    const __m256i c1 = load_lanes(p + 16, p + 64);
    const __m256i c2 = load_lanes(p + 32, p + 80);
    const __m256i b = _mm256_or_si256(
        _mm256_or_si256(_mm256_shuffle_epi8(c0, b0), _mm256_shuffle_epi8(c1, b1)),
        _mm256_shuffle_epi8(c2, b2));
    const __m256i g = _mm256_or_si256(
        _mm256_or_si256(_mm256_shuffle_epi8(c0, g0), _mm256_shuffle_epi8(c1, g1)),
        _mm256_shuffle_epi8(c2, g2));
    const __m256i r = _mm256_or_si256(
        _mm256_or_si256(_mm256_shuffle_epi8(c0, r0), _mm256_shuffle_epi8(c1, r1)),
        _mm256_shuffle_epi8(c2, r2));
    // Pixels 0-7 | 16-23 (lo) and 8-15 | 24-31 (hi) as 16-bit values.
    const __m256i bl = _mm256_unpacklo_epi8(b, zero), bh = _mm256_unpackhi_epi8(b, zero);
    const __m256i gl = _mm256_unpacklo_epi8(g, zero), gh = _mm256_unpackhi_epi8(g, zero);
    const __m256i rl = _mm256_unpacklo_epi8(r, zero), rh = _mm256_unpackhi_epi8(r, zero);
    const __m256i s0 = descale(_mm256_unpacklo_epi16(bl, gl), _mm256_unpacklo_epi16(rl, ones));
    const __m256i s1 = descale(_mm256_unpackhi_epi16(bl, gl), _mm256_unpackhi_epi16(rl, ones));
    const __m256i s2 = descale(_mm256_unpacklo_epi16(bh, gh), _mm256_unpacklo_epi16(rh, ones));
    const __m256i s3 = descale(_mm256_unpackhi_epi16(bh, gh), _mm256_unpackhi_epi16(rh, ones));
    // In-lane packs restore the pixel order: 0-7, 8-15 | 16-23, 24-31.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(gray + x),
                        _mm256_packus_epi16(_mm256_packus_epi32(s0, s1),
                                            _mm256_packus_epi32(s2, s3)));
  }
  gray_row_scalar(bgr + 3 * x, gray + x, n - x);
}

__attribute__((target("avx2,popcnt,bmi"))) void histogram_row_avx2(const std::uint8_t* g, int n,
                                                                   histogram_acc& acc) {
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(histogram_acc::window_lo));
  const __m256i last = _mm256_set1_epi8(histogram_acc::window - 1);
  const __m256i zero = _mm256_setzero_si256();
  int x = 0;
  while (x + 32 <= n) {
    // Byte counters: flushed at most every 255 blocks.
    __m256i c[histogram_acc::window];
    for (auto& v : c)
      v = zero;
    const int end = std::min(n - 31, x + 255 * 32);
    for (; x < end; x += 32) {
      const __m256i d =
          _mm256_sub_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + x)), bias);
      for (int k = 0; k < histogram_acc::window; ++k) // a match is -1: subtracting counts it
        c[k] = _mm256_sub_epi8(c[k], _mm256_cmpeq_epi8(d, _mm256_set1_epi8(static_cast<char>(k))));
      auto outside = ~static_cast<std::uint32_t>(
          _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(d, last), d)));
      for (; outside; outside &= outside - 1)
        ++acc.h[outside & 3][g[x + __builtin_ctz(outside)]];
    }
    for (int k = 0; k < histogram_acc::window; ++k) {
      const __m256i s = _mm256_sad_epu8(c[k], zero);
      acc.in_window[static_cast<std::size_t>(k)] +=
          static_cast<std::uint64_t>(_mm256_extract_epi64(s, 0)) +
          static_cast<std::uint64_t>(_mm256_extract_epi64(s, 1)) +
          static_cast<std::uint64_t>(_mm256_extract_epi64(s, 2)) +
          static_cast<std::uint64_t>(_mm256_extract_epi64(s, 3));
    }
  }
  acc.add_scalar(g + x, n - x);
}

} // namespace

const row_set* avx2_rows() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                                __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi");
  static const row_set set{correct_row_avx2, gray_row_avx2, histogram_row_avx2};
  return supported ? &set : nullptr;
}

} // namespace seg::kernels::rows

#else

namespace seg::kernels::rows {
const row_set* avx2_rows() { return nullptr; }
} // namespace seg::kernels::rows

#endif
