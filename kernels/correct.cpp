#include "kernels/correct.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <opencv2/core.hpp>

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

} // namespace

const std::uint8_t* correction_lut() {
  static const std::array<std::uint8_t, 65536> lut = make_lut();
  return lut.data();
}

void correct_frame(const cv::Mat& frame, const cv::Mat& flat, cv::Mat& out) {
  CV_Assert(frame.type() == CV_8UC3 && flat.type() == CV_8UC3);
  CV_Assert(frame.size() == flat.size());
  CV_Assert(out.data == nullptr || (out.data != frame.data && out.data != flat.data));
  out.create(frame.size(), CV_8UC3);
  const std::uint8_t* lut = correction_lut();
  const int len = frame.cols * 3;
  for (int y = 0; y < frame.rows; ++y) {
    const std::uint8_t* f = frame.ptr<std::uint8_t>(y);
    const std::uint8_t* g = flat.ptr<std::uint8_t>(y);
    std::uint8_t* d = out.ptr<std::uint8_t>(y);
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
