// The streamed flat (tiled acquisitions): decoded band by band from every
// frame side by side, it equals the median of the whole decoded frames.
#include <catch2/catch.hpp>

#include <vector>

#include <opencv2/core.hpp>

#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/flat_stream.hpp"
#include "tests/kernels/jpeg_samples.hpp"

using seg::kernels::decode_error;
using seg::kernels::decode_jpeg;
using seg::kernels::frame_band_reader;
using seg::kernels::median_flat;
using seg::kernels::streamed_flat;
using namespace seg::test;

namespace {

std::vector<bytes_t> sample_frames(int count, int w, int h) {
  std::vector<bytes_t> frames;
  for (int i = 0; i < count; ++i)
    frames.push_back(encode(test_image(w, h, 100u + unsigned(i)), {cv::IMWRITE_JPEG_QUALITY, 90}));
  return frames;
}

std::vector<frame_band_reader> readers_of(const std::vector<bytes_t>& frames) {
  std::vector<frame_band_reader> readers;
  for (auto& f : frames)
    readers.emplace_back(f.data(), f.size(), no_pixel_limit);
  return readers;
}

cv::Mat whole_median(const std::vector<bytes_t>& frames) {
  std::vector<cv::Mat> decoded;
  for (auto& f : frames)
    decoded.push_back(decode_jpeg(f.data(), f.size(), no_pixel_limit));
  return median_flat(decoded);
}

} // namespace

TEST_CASE("the streamed flat is the median of the whole frames, whatever the band height",
          "[flat][stream]") {
  for (int count : {1, 2, 5, 9}) {
    auto frames = sample_frames(count, 333, 157);
    auto expected = whole_median(frames);
    for (int band_rows : {1, 7, 16, 64, 157, 400}) {
      for (int rows_per_call : {1, 50, 1000}) {
        INFO("frames " << count << ", band rows " << band_rows << ", rows a call "
                       << rows_per_call);
        streamed_flat flat(readers_of(frames), band_rows);
        cv::Mat out;
        for (;;) {
          int before = flat.rows_done();
          bool done = flat.advance(out, rows_per_call);
          int step = flat.rows_done() - before;
          // Whole bands a call, at least the rows asked (fewer at the end).
          CHECK(step >= std::min(rows_per_call, 157 - before));
          CHECK(step < rows_per_call + band_rows);
          if (done)
            break;
          CHECK(flat.rows_done() % std::min(band_rows, 157) == 0);
        }
        CHECK(flat.done());
        CHECK(flat.rows_done() == 157);
        CHECK(same_pixels(out, expected));
      }
    }
  }
}

TEST_CASE("the streamed flat refuses frames it cannot stream", "[flat][stream]") {
  auto frames = sample_frames(3, 64, 48);
  SECTION("no frame, or more than median_flat takes") {
    CHECK_THROWS_AS(streamed_flat({}, 16), std::invalid_argument);
    auto many = sample_frames(10, 16, 8);
    CHECK_THROWS_AS(streamed_flat(readers_of(many), 16), std::invalid_argument);
  }
  SECTION("frames of two sizes") {
    frames.push_back(encode(test_image(64, 50, 7)));
    CHECK_THROWS_AS(streamed_flat(readers_of(frames), 16), std::invalid_argument);
  }
  SECTION("a rotated frame") {
    frames[1] = with_orientation(frames[1], 6, false);
    CHECK_THROWS_AS(streamed_flat(readers_of(frames), 16), std::invalid_argument);
  }
  SECTION("a band height of zero") {
    CHECK_THROWS_AS(streamed_flat(readers_of(frames), 0), std::invalid_argument);
  }
  SECTION("a truncated frame fails the flat before its last rows") {
    frames[2].resize(frames[2].size() / 2);
    streamed_flat flat(readers_of(frames), 8);
    cv::Mat out;
    try {
      while (!flat.advance(out, 8)) {
      }
      FAIL("the truncated frame decoded");
    } catch (const seg::kernels::streamed_frame_error& e) {
      CHECK(e.frame() == 2);
    }
  }
}
