// segflow synth's frames decode band by band (kernels::jpeg_band_reader) to
// OpenCV's pixels, as the real frames do (tests/kernels/jpeg_bands_test.cpp).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "kernels/jpeg_bands.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/synth/synth.hpp"

TEST_CASE("synth frames decode band by band to OpenCV's pixels", "[synth][bands]") {
  seg::test::temp_dir tmp("segflow-synth-bands");
  seg::synth_options o;
  o.out = tmp.path;
  o.frames = 3;
  o.objects = 8;
  o.seed = 21;
  auto made = seg::generate_acquisition(o);
  REQUIRE(made.frames.size() == 3);
  for (auto& f : made.frames) {
    INFO(f.string());
    std::ifstream in(f, std::ios::binary);
    std::vector<std::uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    seg::kernels::jpeg_band_reader reader(bytes.data(), bytes.size(), 100'000'000, f.string());
    cv::Mat whole(reader.coded_size(), CV_8UC3), band;
    seg::kernels::decode_bands(reader, 48, band, [&](int first, const cv::Mat& rows) {
      rows.copyTo(whole.rowRange(first, first + rows.rows));
      return true;
    });
    REQUIRE(reader.done());
    auto expected = cv::imread(f.string(), cv::IMREAD_COLOR);
    REQUIRE(expected.size() == cv::Size(1014, 760));
    CHECK(cv::norm(whole, expected, cv::NORM_INF) == 0);
  }
}
