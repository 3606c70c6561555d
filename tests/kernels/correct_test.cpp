#include "kernels/correct.hpp"

#include <cmath>
#include <limits>
#include <random>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

using seg::kernels::correct_frame;
using seg::kernels::correct_frame_gray;
using seg::kernels::correction_lut;
using seg::kernels::gray_and_histogram;
using seg::kernels::gray_histogram;
using seg::kernels::vector_path;

namespace {

// skimage 0.19 rescale_intensity(f / g, in_range=(0, 1.04), out_range="uint8")
// written out step by step in float64: clip, (x - imin) / (imax - imin),
// * (omax - omin) + omin, then numpy's truncating cast (NaN -> 0 on x86).
int reference_value(int f, int g) {
  const double c = static_cast<double>(f) / static_cast<double>(g);
  if (c != c)
    return 0;
  double x = c < 0.0 ? 0.0 : c;
  x = x > 1.04 ? 1.04 : x;
  const double scaled = (x - 0.0) / (1.04 - 0.0);
  const double v = scaled * (255.0 - 0.0) + 0.0;
  return static_cast<int>(std::trunc(v));
}

gray_histogram count_values(const cv::Mat& gray) {
  gray_histogram h{};
  for (int y = 0; y < gray.rows; ++y)
    for (int x = 0; x < gray.cols; ++x)
      ++h[gray.at<std::uint8_t>(y, x)];
  return h;
}

// Every 24-bit colour once, in rows of `width` pixels (the last row padded
// with black).
cv::Mat all_colours(int width) {
  const int n = 1 << 24;
  const int rows = (n + width - 1) / width;
  cv::Mat img(rows, width, CV_8UC3, cv::Scalar::all(0));
  auto* p = img.ptr<std::uint8_t>(0); // continuous
  for (int c = 0; c < n; ++c) {
    p[3 * c] = static_cast<std::uint8_t>(c);
    p[3 * c + 1] = static_cast<std::uint8_t>(c >> 8);
    p[3 * c + 2] = static_cast<std::uint8_t>(c >> 16);
  }
  return img;
}

// Runs a test section on one row-kernel path (AVX2, 128-bit, scalar: each
// that this CPU has), back to the best path after.
struct on_path {
  explicit on_path(vector_path path) { seg::kernels::use_vector_path(path); }
  ~on_path() { seg::kernels::use_vector_path(vector_path::best); }
  on_path(const on_path&) = delete;
  on_path& operator=(const on_path&) = delete;
};

vector_path any_path() {
  return GENERATE(vector_path::best, vector_path::simd128, vector_path::scalar);
}

} // namespace

TEST_CASE("gray_and_histogram equals cv::cvtColor BGR2GRAY on all 2^24 colours",
          "[kernel][correct][gray]") {
  const vector_path path = any_path();
  const on_path use(path);
  INFO("path " << static_cast<int>(path));
  // 4096 wide: the vector path only; 13 wide: 13 = 0 blocks + scalar tail.
  for (int width : {4096, 13}) {
    const cv::Mat img = all_colours(width);
    cv::Mat want, got;
    cv::cvtColor(img, want, cv::COLOR_BGR2GRAY);
    gray_histogram hist;
    gray_and_histogram(img, got, hist);
    INFO("width " << width);
    REQUIRE(got.size() == img.size());
    REQUIRE(got.type() == CV_8UC1);
    CHECK(cv::countNonZero(got != want) == 0);
    CHECK(hist == count_values(want));
  }
}

TEST_CASE("correct_frame_gray: the corrected frame, its cvtColor gray and histogram, "
          "in place or not",
          "[kernel][correct][gray]") {
  const vector_path path = any_path();
  const on_path use(path);
  INFO("path " << static_cast<int>(path));
  std::mt19937 rng(17);
  // Widths around the 32-pixel blocks, and one past 255 blocks (8160 px)
  // where the histogram's byte counters are flushed mid-row.
  const cv::Size sizes[] = {{1, 1}, {31, 3}, {32, 2}, {33, 5}, {100, 7}, {257, 9}, {8200, 2}};
  int cases = 0;
  for (const auto& size : sizes)
    for (int kind = 0; kind < 3; ++kind) {
      cv::Mat frame(size, CV_8UC3), flat(size, CV_8UC3);
      cv::randu(flat, 0, 256);
      if (kind == 0) { // anything
        cv::randu(frame, 0, 256);
      } else { // background-like: near the flat, so near 245 after correction
        cv::Mat noise(size, CV_16SC3);
        cv::randn(noise, 0, kind == 1 ? 2 : 12);
        cv::Mat sum;
        cv::add(flat, noise, sum, cv::noArray(), CV_16SC3);
        sum.convertTo(frame, CV_8UC3);
        if (kind == 2) // dark objects and black flat pixels
          cv::circle(frame, {static_cast<int>(rng() % size.width), 0}, 5, cv::Scalar::all(20),
                     cv::FILLED);
        flat.at<cv::Vec3b>(size.height - 1, size.width - 1) = {0, 0, 7};
      }
      const cv::Mat want = correct_frame(frame, flat);
      cv::Mat want_gray;
      cv::cvtColor(want, want_gray, cv::COLOR_BGR2GRAY);
      cv::Mat out, gray;
      gray_histogram hist;
      correct_frame_gray(frame, flat, out, gray, hist);
      INFO("size " << size << " kind " << kind);
      CHECK(cv::countNonZero(out.reshape(1) != want.reshape(1)) == 0);
      CHECK(cv::countNonZero(gray != want_gray) == 0);
      CHECK(hist == count_values(want_gray));
      cv::Mat in_place = frame.clone(), gray2;
      gray_histogram hist2;
      correct_frame_gray(in_place, flat, in_place, gray2, hist2);
      CHECK(cv::countNonZero(in_place.reshape(1) != want.reshape(1)) == 0);
      CHECK(cv::countNonZero(gray2 != want_gray) == 0);
      CHECK(hist2 == hist);
      ++cases;
    }
  CHECK(cases == 7 * 3);
}

TEST_CASE("correction LUT equals the float64 expression for all 65536 pairs",
          "[kernel][correct]") {
  const std::uint8_t* lut = correction_lut();
  int bad = 0;
  for (int f = 0; f < 256; ++f)
    for (int g = 0; g < 256; ++g)
      bad += lut[f << 8 | g] != reference_value(f, g);
  CHECK(bad == 0);
}

TEST_CASE("correction special values (SPEC §2.2)", "[kernel][correct]") {
  const std::uint8_t* lut = correction_lut();
  auto at = [lut](int f, int g) { return static_cast<int>(lut[f << 8 | g]); };
  CHECK(at(200, 200) == 245); // ratio 1.0 -> 245.19 -> 245
  CHECK(at(100, 200) == 122); // 0.5 -> 122.59 -> 122
  CHECK(at(208, 200) == 255); // 1.04 -> 255
  CHECK(at(255, 1) == 255);   // far above 1.04, clipped
  CHECK(at(5, 0) == 255);     // +inf
  CHECK(at(0, 0) == 0);       // NaN
  CHECK(at(0, 17) == 0);
  CHECK(at(26, 51) == 124); // 0.50980... / 1.04 * 255 = 124.999...: truncation keeps 124
}

TEST_CASE("correct_frame: per-element LUT, pixel (0,0) black, size and type kept",
          "[kernel][correct]") {
  cv::Mat big(31, 45, CV_8UC3), big_flat(31, 45, CV_8UC3);
  cv::randu(big, 0, 256);
  cv::randu(big_flat, 0, 256);
  // Non-continuous views exercise the row-pointer path.
  const cv::Mat frame = big(cv::Rect(2, 3, 40, 25));
  const cv::Mat flat = big_flat(cv::Rect(1, 4, 40, 25));
  REQUIRE_FALSE(frame.isContinuous());
  const cv::Mat out = correct_frame(frame, flat);
  REQUIRE(out.type() == CV_8UC3);
  REQUIRE(out.size() == frame.size());
  CHECK(out.at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 0, 0));
  int bad = 0;
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) {
      if (x == 0 && y == 0)
        continue;
      for (int c = 0; c < 3; ++c)
        bad += out.at<cv::Vec3b>(y, x)[c] !=
               reference_value(frame.at<cv::Vec3b>(y, x)[c], flat.at<cv::Vec3b>(y, x)[c]);
    }
  CHECK(bad == 0);

  cv::Mat reused(1, 1, CV_8UC1);
  correct_frame(frame, flat, reused);
  CHECK(cv::countNonZero(reused.reshape(1) != out.reshape(1)) == 0);
}

TEST_CASE("correct_frame is exact on all 65536 (raw, flat) pairs", "[kernel][correct]") {
  const vector_path path = any_path();
  const on_path use(path);
  INFO("path " << static_cast<int>(path));
  // Row = raw value, column = flat value, on all three channels; a second
  // copy shifted by 5 columns puts every pair at other SIMD lane positions.
  for (int shift : {0, 5}) {
    cv::Mat frame(256, 256 + shift, CV_8UC3, cv::Scalar::all(1));
    cv::Mat flat(256, 256 + shift, CV_8UC3, cv::Scalar::all(1));
    for (int f = 0; f < 256; ++f)
      for (int g = 0; g < 256; ++g) {
        frame.at<cv::Vec3b>(f, g + shift) = cv::Vec3b::all(static_cast<std::uint8_t>(f));
        flat.at<cv::Vec3b>(f, g + shift) = cv::Vec3b::all(static_cast<std::uint8_t>(g));
      }
    const cv::Mat out = correct_frame(frame, flat);
    int bad = 0;
    for (int f = 0; f < 256; ++f)
      for (int g = 0; g < 256; ++g) {
        if (f == 0 && g + shift == 0)
          continue; // pixel (0,0) is forced to 0
        const cv::Vec3b v = out.at<cv::Vec3b>(f, g + shift);
        const int want = reference_value(f, g);
        bad += (v[0] != want) + (v[1] != want) + (v[2] != want);
      }
    INFO("shift " << shift);
    CHECK(bad == 0);
    // In place (the worker's way) gives the same bytes, the exact-quotient
    // lanes patched from the LUT included.
    cv::Mat in_place = frame.clone();
    correct_frame(in_place, flat, in_place);
    CHECK(cv::countNonZero(in_place.reshape(1) != out.reshape(1)) == 0);
    cv::Mat fused = frame.clone(), gray;
    gray_histogram hist;
    correct_frame_gray(fused, flat, fused, gray, hist);
    CHECK(cv::countNonZero(fused.reshape(1) != out.reshape(1)) == 0);
  }
}

TEST_CASE("correct_frame on a uniform frame over its own flat gives 245 everywhere but (0,0)",
          "[kernel][correct]") {
  const cv::Mat frame(20, 30, CV_8UC3, cv::Scalar(180, 200, 220));
  const cv::Mat out = correct_frame(frame, frame);
  CHECK(cv::countNonZero(out.reshape(1) == 245) == 20 * 30 * 3 - 3);
  CHECK(out.at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 0, 0));
}

TEST_CASE("correct_frame rejects mismatched input", "[kernel][correct]") {
  const cv::Mat a(4, 4, CV_8UC3, cv::Scalar::all(1));
  CHECK_THROWS_AS(correct_frame(a, cv::Mat(4, 5, CV_8UC3)), cv::Exception);
  CHECK_THROWS_AS(correct_frame(a, cv::Mat(4, 4, CV_8UC1)), cv::Exception);
  CHECK_THROWS_AS(correct_frame(cv::Mat(4, 4, CV_16UC3), cv::Mat(4, 4, CV_16UC3)), cv::Exception);
}
