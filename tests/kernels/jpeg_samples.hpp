#pragma once
// Test JPEGs and pixel comparisons shared by the decoder tests
// (decode_test.cpp, jpeg_bands_test.cpp).

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace seg::test {

using bytes_t = std::vector<std::uint8_t>;

constexpr std::int64_t no_pixel_limit = 4'000'000'000;

inline bytes_t read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return bytes_t(std::istreambuf_iterator<char>(in), {});
}

// A noisy BGR test image with smooth structure, so JPEG has real work.
inline cv::Mat test_image(int w, int h, unsigned seed) {
  cv::Mat img(h, w, CV_8UC3);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-20, 20);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.at<cv::Vec3b>(y, x)[c] =
          cv::saturate_cast<uchar>(128 + 60 * std::sin((x + 7 * c) * 0.05) + y % 50 + noise(rng));
  return img;
}

inline bytes_t encode(const cv::Mat& img, std::vector<int> params = {}) {
  std::vector<uchar> out;
  REQUIRE(cv::imencode(".jpg", img, out, params));
  return bytes_t(out.begin(), out.end());
}

inline cv::Mat opencv_decode(const bytes_t& b) {
  cv::Mat raw(1, int(b.size()), CV_8UC1, const_cast<std::uint8_t*>(b.data()));
  return cv::imdecode(raw, cv::IMREAD_COLOR);
}

inline bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

} // namespace seg::test
