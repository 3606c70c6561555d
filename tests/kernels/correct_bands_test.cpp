// Correct while decoding: a frame decoded and corrected band by band gives
// the whole-frame path's corrected frame, gray image and histogram bit for
// bit, whatever the band height and however the bands are grouped into
// calls; real frames and synthetic ones.
#include "kernels/correct_bands.hpp"

#include <algorithm>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>

#include "kernels/correct.hpp"
#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/jpeg_bands.hpp"
#include "tests/kernels/jpeg_samples.hpp"

namespace fs = std::filesystem;
using namespace seg::kernels;
using namespace seg::test;

namespace {

constexpr std::int64_t no_limit = no_pixel_limit;

struct corrected {
  cv::Mat frame, gray;
  gray_histogram hist{};
};

// Today's path: the whole frame decoded, then corrected in one pass.
corrected whole_frame(const bytes_t& b, const cv::Mat& flat) {
  corrected c;
  cv::Mat frame = decode_jpeg(b.data(), b.size(), no_limit);
  correct_frame_gray(frame, flat, frame, c.gray, c.hist);
  c.frame = frame;
  return c;
}

corrected in_bands(const bytes_t& b, const cv::Mat& flat, int band_rows) {
  corrected c;
  decode_correct_gray(b.data(), b.size(), no_limit, flat, band_rows, c.frame, c.gray, c.hist);
  return c;
}

void check_same(const corrected& got, const corrected& want) {
  CHECK(same_pixels(got.frame, want.frame));
  CHECK(same_pixels(got.gray, want.gray));
  CHECK(got.hist == want.hist);
}

// A flat with every value, 0 included (x/0 and 0/0 take the table's path).
cv::Mat noisy_flat(cv::Size size, unsigned seed) {
  cv::Mat flat(size, CV_8UC3);
  cv::randu(flat, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::Mat smooth = test_image(size.width, size.height, seed);
  cv::addWeighted(flat, 0.3, smooth, 0.7, 0, flat);
  flat.at<cv::Vec3b>(size.height / 2, 3) = cv::Vec3b(0, 0, 0);
  return flat;
}

// The acquisition's flat as a job computes it (median of its first frames),
// and every listed frame corrected with it both ways.
void check_acquisition(const std::vector<fs::path>& frames, const std::vector<int>& band_rows) {
  REQUIRE(frames.size() >= 3);
  std::vector<cv::Mat> decoded;
  for (std::size_t i = 0; i < 3; ++i) {
    auto b = read_all(frames[i]);
    decoded.push_back(decode_jpeg(b.data(), b.size(), no_limit));
  }
  cv::Mat flat = median_flat(decoded);
  for (auto& f : frames) {
    auto b = read_all(f);
    auto want = whole_frame(b, flat);
    for (int rows : band_rows) {
      INFO(f.filename().string() << ", bands of " << rows << " rows");
      check_same(in_bands(b, flat, rows), want);
    }
  }
}

} // namespace

TEST_CASE("bands give the whole frame's correction, gray and histogram", "[correct][bands]") {
  // Odd sizes leave partial MCUs at the right and bottom; 4:2:0 upsampling
  // needs rows across band edges.
  for (auto [w, h] : {std::pair{421, 203}, std::pair{64, 48}, std::pair{1000, 17}}) {
    auto img = test_image(w, h, unsigned(w));
    auto flat = noisy_flat(img.size(), unsigned(h));
    for (auto& b : {encode(img, {cv::IMWRITE_JPEG_QUALITY, 93}),
                    encode(img, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})}) {
      auto want = whole_frame(b, flat);
      REQUIRE(want.frame.at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 0, 0)); // the (0,0) rule
      for (int rows : {1, 2, 7, 16, 17, 64, h - 1, h, h + 100}) {
        if (rows < 1)
          continue;
        INFO(w << "x" << h << ", bands of " << rows << " rows");
        check_same(in_bands(b, flat, rows), want);
      }
    }
  }
  SECTION("a grey JPEG, corrected as its 3 equal channels") {
    cv::Mat grey;
    cv::extractChannel(test_image(200, 150, 3), grey, 1);
    auto b = encode(grey);
    auto flat = noisy_flat(grey.size(), 4);
    check_same(in_bands(b, flat, 13), whole_frame(b, flat));
  }
}

TEST_CASE("bands grouped into calls of any size: the same result, whole bands a call",
          "[correct][bands]") {
  auto img = test_image(300, 211, 5);
  auto flat = noisy_flat(img.size(), 6);
  auto b = encode(img);
  auto want = whole_frame(b, flat);
  std::mt19937 rng(9);
  for (int band_rows : {1, 5, 16, 64}) {
    INFO("bands of " << band_rows << " rows");
    banded_correction bands(jpeg_band_reader(b.data(), b.size(), no_limit), band_rows);
    // Buffers of another size, as a worker's from an earlier frame.
    cv::Mat out(10, 10, CV_8UC3), gray(10, 10, CV_8UC1);
    int calls = 0;
    while (!bands.done()) {
      int before = bands.rows_done();
      int rows = std::uniform_int_distribution<int>(1, 70)(rng);
      bool done = bands.advance(flat, out, gray, rows);
      ++calls;
      int now = bands.rows_done();
      CHECK(done == (now == img.rows));
      if (!done) {
        CHECK(now - before >= rows);                // at least what was asked
        CHECK(now - before < rows + band_rows);     // in whole bands, no more
        CHECK(now % band_rows == 0);
      }
    }
    CHECK(calls > 1);
    CHECK(bands.advance(flat, out, gray, 10)); // done stays done
    corrected got{out, gray, bands.histogram()};
    check_same(got, want);
    CHECK(bands.timings().decode_ms > 0);
    CHECK(bands.timings().correct_ms > 0);
  }
}

TEST_CASE("bands on the real frames equal the whole frame, bit for bit",
          "[correct][bands][data]") {
  fs::path shared = SEGFLOW_SHARED_DATA;
  INFO("shared data: " << shared.string());
  SECTION("dev-small (1014x760), every frame") {
    check_acquisition(jpegs_under(shared / "composed" / "dev-small" / "img", 100), {16, 7, 1});
  }
  SECTION("dev-a (4056x3040), 4 frames; 37 does not divide 3040") {
    check_acquisition(jpegs_under(shared / "composed" / "dev-a" / "img", 4), {16, 37, 1});
  }
  SECTION("HQ camera frames (4056x3040), each the other's flat") {
    auto a = read_all(shared / "picamera2-experiments" / "basic_capture_fullres.jpg");
    auto b = read_all(shared / "picamera2-experiments" / "multiple_test0.jpg");
    REQUIRE_FALSE(a.empty());
    REQUIRE_FALSE(b.empty());
    cv::Mat flat = decode_jpeg(b.data(), b.size(), no_limit);
    auto want = whole_frame(a, flat);
    for (int rows : {16, 100})
      check_same(in_bands(a, flat, rows), want);
  }
}

TEST_CASE("bands refuse what the whole-frame path would not do the same way",
          "[correct][bands]") {
  auto img = test_image(96, 80, 8);
  auto b = encode(img);
  auto flat = noisy_flat(img.size(), 9);
  SECTION("a rotated frame, and bands of no rows") {
    auto rotated = with_orientation(b, 6, true);
    CHECK_THROWS_AS(banded_correction(jpeg_band_reader(rotated.data(), rotated.size(), no_limit),
                                      16),
                    std::invalid_argument);
    CHECK_THROWS_AS(banded_correction(jpeg_band_reader(b.data(), b.size(), no_limit), 0),
                    std::invalid_argument);
  }
  SECTION("above the pixel limit: refused before any output exists") {
    cv::Mat out, gray;
    gray_histogram hist{};
    CHECK_THROWS_WITH(decode_correct_gray(b.data(), b.size(), 96 * 80 - 1, flat, 16, out, gray,
                                          hist),
                      "96x80 exceeds the limit of 7679 pixels");
    CHECK(out.empty());
  }
  SECTION("a truncated frame fails with decode_jpeg's reason") {
    bytes_t cut(b.begin(), b.begin() + std::ptrdiff_t(b.size() / 2));
    std::string whole;
    try {
      decode_jpeg(cut.data(), cut.size(), no_limit);
    } catch (const decode_error& e) {
      whole = e.what();
    }
    REQUIRE_FALSE(whole.empty());
    cv::Mat out, gray;
    gray_histogram hist{};
    CHECK_THROWS_WITH(decode_correct_gray(cut.data(), cut.size(), no_limit, flat, 16, out, gray,
                                          hist),
                      whole);
  }
}

TEST_CASE("bands without a gray image (tiled frames): the same frame and histogram, and "
          "gray_and_histogram of any region gives the gray rows bands would have",
          "[correct][bands][tiles]") {
  auto img = test_image(421, 203, 11);
  auto flat = noisy_flat(img.size(), 12);
  auto b = encode(img, {cv::IMWRITE_JPEG_QUALITY, 93});
  auto want = whole_frame(b, flat);
  for (int band_rows : {1, 16, 64}) {
    INFO("bands of " << band_rows << " rows");
    banded_correction bands(jpeg_band_reader(b.data(), b.size(), no_limit), band_rows);
    cv::Mat out;
    while (!bands.advance(flat, out, 50)) {
    }
    CHECK(same_pixels(out, want.frame));
    CHECK(bands.histogram() == want.hist);
    for (auto r : {cv::Rect(0, 0, 421, 203), cv::Rect(17, 33, 100, 64), cv::Rect(400, 190, 21, 13)}) {
      cv::Mat gray;
      gray_histogram hist{};
      gray_and_histogram(out(r), gray, hist);
      CHECK(same_pixels(gray, want.gray(r)));
    }
  }
}
