// The strict libjpeg-turbo decoder: the same pixels as OpenCV's reader on
// good files, an error on every kind of bad one.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <unistd.h>

#include "kernels/decode.hpp"
#include "tests/kernels/jpeg_samples.hpp"

using seg::kernels::decode_error;
using seg::kernels::decode_jpeg;
using seg::kernels::probe_jpeg;

namespace fs = std::filesystem;

namespace {

using namespace seg::test;
constexpr std::int64_t no_limit = no_pixel_limit;

// OpenCV's file reader (what the reference segmenter calls).
cv::Mat opencv_read(const bytes_t& b) {
  auto path = fs::temp_directory_path() / ("segflow-decode-test-" + std::to_string(::getpid()) + ".jpg");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
  auto img = cv::imread(path.string(), cv::IMREAD_COLOR);
  fs::remove(path);
  return img;
}

std::string decode_failure(const bytes_t& b, std::int64_t max_pixels = no_limit) {
  try {
    decode_jpeg(b.data(), b.size(), max_pixels);
  } catch (const decode_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("decode_jpeg gives OpenCV's pixels on good frames", "[decode]") {
  auto img = test_image(333, 201, 1);
  SECTION("baseline 4:2:0 at several qualities") {
    for (int q : {50, 75, 93, 100}) {
      auto b = encode(img, {cv::IMWRITE_JPEG_QUALITY, q});
      INFO("quality " << q);
      CHECK(same_pixels(decode_jpeg(b.data(), b.size(), no_limit), opencv_decode(b)));
    }
  }
  SECTION("progressive and optimized") {
    auto b = encode(img, {cv::IMWRITE_JPEG_PROGRESSIVE, 1, cv::IMWRITE_JPEG_OPTIMIZE, 1});
    CHECK(same_pixels(decode_jpeg(b.data(), b.size(), no_limit), opencv_decode(b)));
  }
  SECTION("restart intervals") {
    auto b = encode(img, {cv::IMWRITE_JPEG_RST_INTERVAL, 4});
    CHECK(same_pixels(decode_jpeg(b.data(), b.size(), no_limit), opencv_decode(b)));
  }
  SECTION("greyscale files come out as 3 equal channels") {
    cv::Mat grey;
    cv::extractChannel(img, grey, 1);
    auto b = encode(grey);
    auto mine = decode_jpeg(b.data(), b.size(), no_limit);
    CHECK(mine.type() == CV_8UC3);
    CHECK(same_pixels(mine, opencv_decode(b)));
  }
  SECTION("EXIF orientations are applied as cv::imread applies them") {
    auto b = encode(img);
    for (int o = 1; o <= 8; ++o) {
      for (bool le : {true, false}) {
        auto ob = with_orientation(b, o, le);
        INFO("orientation " << o << (le ? " II" : " MM"));
        auto mine = decode_jpeg(ob.data(), ob.size(), no_limit);
        CHECK(same_pixels(mine, opencv_read(ob)));
        auto info = probe_jpeg(ob.data(), ob.size());
        REQUIRE(info);
        CHECK(info->orientation == o);
        CHECK(info->coded == cv::Size(333, 201));
        CHECK(info->decoded == mine.size());
      }
    }
  }
}

TEST_CASE("decode_jpeg gives OpenCV's pixels on real camera frames", "[decode][data]") {
  std::vector<fs::path> files;
  fs::path shared = SEGFLOW_SHARED_DATA;
  for (auto& name : {"basic_capture_fullres.jpg", "multiple_test0.jpg"})
    files.push_back(shared / "picamera2-experiments" / name);
  auto composed = shared / "composed" / "dev-small" / "img";
  INFO("shared data: " << shared.string());
  REQUIRE(fs::is_directory(composed));
  for (auto& e : fs::recursive_directory_iterator(composed))
    if (e.path().extension() == ".jpg")
      files.push_back(e.path());
  REQUIRE(files.size() > 2);
  for (auto& f : files) {
    INFO(f.string());
    REQUIRE(fs::exists(f));
    auto b = read_all(f);
    CHECK(same_pixels(decode_jpeg(b.data(), b.size(), no_limit), opencv_read(b)));
  }
}

TEST_CASE("decode_jpeg refuses what OpenCV lets through", "[decode]") {
  auto img = test_image(320, 240, 2);
  auto good = encode(img, {cv::IMWRITE_JPEG_QUALITY, 93});

  SECTION("a truncated file (OpenCV pads it with grey and returns a frame)") {
    bytes_t cut(good.begin(), good.begin() + std::ptrdiff_t(good.size() * 55 / 100));
    CHECK_FALSE(opencv_decode(cut).empty()); // why this decoder exists
    auto why = decode_failure(cut);
    CHECK(why.find("Premature end of JPEG file") != std::string::npos);
    CHECK(why.find("truncated or corrupt") != std::string::npos);
  }
  SECTION("a file that lost only its end marker") {
    bytes_t cut(good.begin(), good.end() - 2);
    CHECK_FALSE(decode_failure(cut).empty());
  }
  SECTION("a marker in the middle of the scan data") {
    auto bad = good;
    auto at = bad.size() * 2 / 3;
    bad[at] = 0xFF;
    bad[at + 1] = 0xD9; // EOI where scan data should be
    CHECK_FALSE(decode_failure(bad).empty());
  }
  SECTION("empty, not a JPEG, random bytes after a start marker") {
    CHECK(decode_failure({}).find("empty") != std::string::npos);
    bytes_t text{'h', 'e', 'l', 'l', 'o'};
    CHECK(decode_failure(text).find("not a JPEG") != std::string::npos);
    std::mt19937 rng(3);
    for (int i = 0; i < 200; ++i) {
      bytes_t junk(std::size_t(rng() % 5000 + 2));
      for (auto& x : junk)
        x = std::uint8_t(rng());
      junk[0] = 0xFF;
      junk[1] = 0xD8;
      CHECK_FALSE(decode_failure(junk).empty());
    }
  }
  SECTION("headers only, no scan") {
    bytes_t head(good.begin(), good.begin() + 300);
    head.push_back(0xFF);
    head.push_back(0xD9);
    CHECK_FALSE(decode_failure(head).empty());
  }
}

TEST_CASE("decode_jpeg refuses frames above the pixel limit from the header", "[decode]") {
  auto good = encode(test_image(64, 48, 4));
  // Patch the frame header to claim 60000 x 50000 pixels: decoding it would
  // need 9 GB; the refusal must come before any allocation.
  auto big = good;
  for (std::size_t i = 2; i + 9 < big.size(); ++i) {
    if (big[i] == 0xFF && big[i + 1] == 0xC0) {
      big[i + 5] = 50000 >> 8;
      big[i + 6] = 50000 & 0xFF;
      big[i + 7] = 60000 >> 8;
      big[i + 8] = 60000 & 0xFF;
      break;
    }
  }
  auto why = decode_failure(big, 100'000'000);
  CHECK(why.find("60000x50000 exceeds the limit of 100000000 pixels") != std::string::npos);
  auto info = probe_jpeg(big.data(), big.size());
  REQUIRE(info);
  CHECK(info->coded == cv::Size(60000, 50000));
  // Within the limit the same image decodes.
  CHECK(decode_jpeg(good.data(), good.size(), 64 * 48).size() == cv::Size(64, 48));
  CHECK_FALSE(decode_failure(good, 64 * 48 - 1).empty());
}

TEST_CASE("probe_jpeg reads sizes without decoding and refuses non-JPEGs", "[decode]") {
  auto good = encode(test_image(100, 60, 5));
  auto info = probe_jpeg(good.data(), good.size());
  REQUIRE(info);
  CHECK(info->coded == cv::Size(100, 60));
  CHECK(info->decoded == cv::Size(100, 60));
  CHECK(info->components == 3);
  bytes_t text{'n', 'o', 'p', 'e'};
  CHECK_FALSE(probe_jpeg(text.data(), text.size()));
  CHECK_FALSE(probe_jpeg(nullptr, 0));
}
