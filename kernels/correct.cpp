#include "kernels/correct.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

#include <opencv2/core.hpp>

#include "kernels/correct_rows.hpp"

namespace seg::kernels {

namespace rows {

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

void gray_row_scalar(const std::uint8_t* bgr, std::uint8_t* gray, int n) {
  for (int x = 0; x < n; ++x, bgr += 3)
    gray[x] = static_cast<std::uint8_t>(
        (bgr[0] * gray_b + bgr[1] * gray_g + bgr[2] * gray_r + (1 << (gray_shift - 1))) >>
        gray_shift);
}

} // namespace rows

namespace {

using namespace rows;

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

void histogram_row_scalar(const std::uint8_t* g, int n, histogram_acc& acc) {
  acc.add_scalar(g, n);
}

std::atomic<vector_path> chosen_path{vector_path::best};

// The rows of the chosen path, falling back to slower ones the CPU can run.
const row_set& row_kernels() {
  static const row_set scalar{correct_row_lut, gray_row_scalar, histogram_row_scalar};
  const vector_path path = chosen_path.load(std::memory_order_relaxed);
  if (path == vector_path::best)
    if (const row_set* avx2 = avx2_rows())
      return *avx2;
  if (path != vector_path::scalar)
    if (const row_set* simd = simd128_rows())
      return *simd;
  return scalar;
}

// The common pass: correct row by row; with `gray`, also convert each row
// while it is still in L1 and count it into `hist`.
void correct_pass(const cv::Mat& frame, const cv::Mat& flat, cv::Mat& out, cv::Mat* gray,
                  gray_histogram* hist, bool frame_origin = true) {
  CV_Assert(frame.type() == CV_8UC3 && flat.type() == CV_8UC3);
  CV_Assert(frame.size() == flat.size());
  // In place (out is frame) is fine: each byte is read before it is written.
  CV_Assert(out.data == nullptr || out.data != flat.data);
  out.create(frame.size(), CV_8UC3);
  if (gray)
    gray->create(frame.size(), CV_8UC1);
  const std::uint8_t* lut = correction_lut();
  const row_set& kernels = row_kernels();
  const correct_row_fn row = kernels.correct;
  const gray_row_fn to_gray = kernels.gray;
  const histogram_row_fn count = kernels.histogram;
  histogram_acc acc;
  const int len = frame.cols * 3;
  for (int y = 0; y < frame.rows; ++y) {
    std::uint8_t* d = out.ptr<std::uint8_t>(y);
    row(frame.ptr<std::uint8_t>(y), flat.ptr<std::uint8_t>(y), d, len, lut);
    if (frame_origin && y == 0 && len > 0)
      d[0] = d[1] = d[2] = 0; // the reference blackens pixel (0,0) before rescaling (SPEC §2.2)
    if (gray) {
      std::uint8_t* g = gray->ptr<std::uint8_t>(y);
      to_gray(d, g, frame.cols);
      count(g, frame.cols, acc);
    }
  }
  if (hist)
    acc.result(*hist);
}

} // namespace

void use_vector_path(vector_path path) { chosen_path.store(path, std::memory_order_relaxed); }

const std::uint8_t* correction_lut() {
  static const std::array<std::uint8_t, 65536> lut = make_lut();
  return lut.data();
}

void correct_frame(const cv::Mat& frame, const cv::Mat& flat, cv::Mat& out) {
  correct_pass(frame, flat, out, nullptr, nullptr);
}

void correct_frame_gray(const cv::Mat& frame, const cv::Mat& flat, cv::Mat& out, cv::Mat& gray,
                        gray_histogram& hist) {
  CV_Assert(gray.data == nullptr || (gray.data != frame.data && gray.data != flat.data));
  correct_pass(frame, flat, out, &gray, &hist);
}

void correct_region_gray(const cv::Mat& frame, const cv::Mat& flat, cv::Point origin,
                         cv::Mat& out, cv::Mat& gray, gray_histogram& hist) {
  CV_Assert(gray.data == nullptr || (gray.data != frame.data && gray.data != flat.data));
  correct_pass(frame, flat, out, &gray, &hist, origin == cv::Point(0, 0));
}

void gray_and_histogram(const cv::Mat& bgr, cv::Mat& gray, gray_histogram& hist) {
  CV_Assert(bgr.type() == CV_8UC3);
  gray.create(bgr.size(), CV_8UC1);
  const row_set& kernels = row_kernels();
  const gray_row_fn to_gray = kernels.gray;
  const histogram_row_fn count = kernels.histogram;
  histogram_acc acc;
  for (int y = 0; y < bgr.rows; ++y) {
    std::uint8_t* g = gray.ptr<std::uint8_t>(y);
    to_gray(bgr.ptr<std::uint8_t>(y), g, bgr.cols);
    count(g, bgr.cols, acc);
  }
  acc.result(hist);
}

cv::Mat correct_frame(const cv::Mat& frame, const cv::Mat& flat) {
  cv::Mat out;
  correct_frame(frame, flat, out);
  return out;
}

} // namespace seg::kernels
