#pragma once
// Row kernels behind correct.cpp's passes, one set per instruction set:
// scalar (correct.cpp), AVX2 (correct_avx2.cpp, x86-64) and OpenCV's 128-bit
// universal intrinsics (correct_simd128.cpp: NEON on arm64, SSE elsewhere).
// Internal to kernels/.

#include <array>
#include <cstdint>

#include "kernels/correct.hpp"

namespace seg::kernels::rows {

// OpenCV 4's 8-bit COLOR_BGR2GRAY (imgproc's BY15/GY15/RY15: 15 fractional
// bits, rounded; not the 14-bit R2Y/G2Y/B2Y of its YUV code): tested equal to
// cv::cvtColor on all 2^24 colours.
constexpr int gray_b = 3735, gray_g = 19235, gray_r = 9798, gray_shift = 15;

// The correction as min(255, floor(P / Q)) with P = 6375 f, Q = 26 g: the
// reference's (f / g) / 1.04 * 255 with both sides times 26 (x/0 -> 255).
constexpr float correct_p = 6375.0f, correct_q = 26.0f;

// 256-bin histogram over rows. Four interleaved tables break the
// store-to-load dependency on runs of equal values; still, a third of a
// corrected frame's pixels share one value, whose increments then wait on each
// other. So the vector paths count the 8 values around it by byte compares: a
// pixel equal to its flat corrects to 245, the background's peak (99 % of
// dev-a's gray pixels are in 241..248); any others are incremented one by one.
struct histogram_acc {
  static constexpr int window_lo = 241, window = 8;
  std::array<std::array<std::uint32_t, 256>, 4> h{};
  std::array<std::uint64_t, window> in_window{};

  void add_scalar(const std::uint8_t* g, int n) {
    int x = 0;
    for (; x + 4 <= n; x += 4) {
      ++h[0][g[x]];
      ++h[1][g[x + 1]];
      ++h[2][g[x + 2]];
      ++h[3][g[x + 3]];
    }
    for (; x < n; ++x)
      ++h[0][g[x]];
  }
  void result(gray_histogram& out) const {
    for (std::size_t i = 0; i < 256; ++i)
      out[i] = std::int64_t{h[0][i]} + h[1][i] + h[2][i] + h[3][i];
    for (std::size_t k = 0; k < window; ++k)
      out[window_lo + k] += static_cast<std::int64_t>(in_window[k]);
  }
};

using correct_row_fn = void (*)(const std::uint8_t* f, const std::uint8_t* g, std::uint8_t* d,
                                int len, const std::uint8_t* lut);
using gray_row_fn = void (*)(const std::uint8_t* bgr, std::uint8_t* gray, int n);
using histogram_row_fn = void (*)(const std::uint8_t* g, int n, histogram_acc& acc);

struct row_set {
  correct_row_fn correct;
  gray_row_fn gray;
  histogram_row_fn histogram;
};

// Each set finishes its rows' tails with these.
void correct_row_lut(const std::uint8_t* f, const std::uint8_t* g, std::uint8_t* d, int len,
                     const std::uint8_t* lut);
void gray_row_scalar(const std::uint8_t* bgr, std::uint8_t* gray, int n);

/// The AVX2 rows, or nullptr where the CPU (or the build) has no AVX2 + FMA.
const row_set* avx2_rows();
/// The 128-bit universal-intrinsics rows, or nullptr where OpenCV has none.
const row_set* simd128_rows();

} // namespace seg::kernels::rows
