#pragma once
// Test JPEGs and pixel comparisons shared by the decoder tests
// (decode_test.cpp, jpeg_bands_test.cpp, correct_bands_test.cpp).

#include <algorithm>
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

// The first `at_most` .jpg files under `dir` (sorted by path); at least one.
inline std::vector<std::filesystem::path> jpegs_under(const std::filesystem::path& dir,
                                                      std::size_t at_most) {
  REQUIRE(std::filesystem::is_directory(dir));
  std::vector<std::filesystem::path> found;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.path().extension() == ".jpg")
      found.push_back(e.path());
  std::sort(found.begin(), found.end());
  REQUIRE(!found.empty());
  found.resize(std::min(found.size(), at_most));
  return found;
}

inline bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// An Exif TIFF structure: IFD0 with one Orientation entry.
inline bytes_t exif_tiff(int orientation, bool little_endian) {
  bytes_t tiff;
  auto u16 = [&](unsigned v) {
    if (little_endian) {
      tiff.push_back(std::uint8_t(v));
      tiff.push_back(std::uint8_t(v >> 8));
    } else {
      tiff.push_back(std::uint8_t(v >> 8));
      tiff.push_back(std::uint8_t(v));
    }
  };
  auto u32 = [&](std::uint32_t v) {
    if (little_endian) {
      u16(v & 0xFFFF);
      u16(v >> 16);
    } else {
      u16(v >> 16);
      u16(v & 0xFFFF);
    }
  };
  tiff.push_back(little_endian ? 'I' : 'M');
  tiff.push_back(little_endian ? 'I' : 'M');
  u16(42);
  u32(8);
  u16(1);          // one entry
  u16(0x0112);     // Orientation
  u16(3);          // SHORT
  u32(1);          // count
  u16(unsigned(orientation));
  u16(0);
  u32(0);          // no next IFD
  return tiff;
}

// An APP1 Exif segment holding IFD0 with one Orientation entry.
inline bytes_t with_orientation(const bytes_t& jpeg, int orientation, bool little_endian) {
  bytes_t tiff = exif_tiff(orientation, little_endian);
  bytes_t seg = {'E', 'x', 'i', 'f', 0, 0};
  seg.insert(seg.end(), tiff.begin(), tiff.end());
  bytes_t out(jpeg.begin(), jpeg.begin() + 2); // SOI
  std::size_t len = seg.size() + 2;
  for (std::uint8_t b : {std::uint8_t(0xFF), std::uint8_t(0xE1), std::uint8_t(len >> 8),
                         std::uint8_t(len & 0xFF)})
    out.push_back(b); // (insert of a list here trips GCC 12's -Warray-bounds)
  out.insert(out.end(), seg.begin(), seg.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

} // namespace seg::test
