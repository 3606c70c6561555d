// The banded JPEG reader: band by band, whatever the band height, the same
// pixels as decode_jpeg and OpenCV's reader; bad files fail naming the file.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <jpeglib.h>

#include "kernels/decode.hpp"
#include "kernels/jpeg_bands.hpp"
#include "tests/kernels/jpeg_samples.hpp"

using seg::kernels::decode_bands;
using seg::kernels::decode_error;
using seg::kernels::decode_jpeg;
using seg::kernels::jpeg_band_reader;

namespace fs = std::filesystem;

namespace {

using namespace seg::test;
constexpr std::int64_t no_limit = no_pixel_limit;

// OpenCV 4.6's writer has no sampling-factor option: libjpeg directly, the
// luma sampled h x v against chroma 1 x 1.
bytes_t encode_sampled(const cv::Mat& bgr, int h, int v) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &out, &size);
  cinfo.image_width = JDIMENSION(bgr.cols);
  cinfo.image_height = JDIMENSION(bgr.rows);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_EXT_BGR;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 90, TRUE);
  cinfo.comp_info[0].h_samp_factor = h;
  cinfo.comp_info[0].v_samp_factor = v;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(bgr.ptr<JSAMPLE>(int(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  bytes_t b(out, out + size);
  std::free(out);
  return b;
}

// The frame put together from bands of `band_rows` rows.
cv::Mat banded(const bytes_t& b, int band_rows) {
  jpeg_band_reader reader(b.data(), b.size(), no_limit, "frame.jpg");
  cv::Mat whole(reader.coded_size(), CV_8UC3, cv::Scalar::all(7));
  cv::Mat band;
  int expected_first = 0;
  bool complete = decode_bands(reader, band_rows, band, [&](int first, const cv::Mat& rows) {
    CHECK(first == expected_first);
    CHECK(rows.rows == std::min(band_rows, whole.rows - first));
    rows.copyTo(whole.rowRange(first, first + rows.rows));
    expected_first += rows.rows;
    return true;
  });
  CHECK(complete);
  CHECK(reader.done());
  CHECK(expected_first == whole.rows);
  return whole;
}

std::string failure_of(const bytes_t& b, int band_rows, const std::string& name,
                       int* rows_returned = nullptr) {
  int rows = 0;
  try {
    jpeg_band_reader reader(b.data(), b.size(), no_limit, name);
    cv::Mat band;
    decode_bands(reader, band_rows, band, [&](int, const cv::Mat& r) {
      rows += r.rows;
      return true;
    });
  } catch (const decode_error& e) {
    if (rows_returned)
      *rows_returned = rows;
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("bands give decode_jpeg's and OpenCV's pixels whatever their height", "[bands]") {
  // 4:2:0 needs context rows across band edges (fancy upsampling); odd sizes
  // leave partial MCUs at the right and bottom.
  auto img = test_image(421, 203, 11);
  std::vector<std::pair<std::string, std::vector<int>>> variants = {
      {"4:2:0 q93", {cv::IMWRITE_JPEG_QUALITY, 93}},
      {"progressive", {cv::IMWRITE_JPEG_PROGRESSIVE, 1, cv::IMWRITE_JPEG_OPTIMIZE, 1}},
      {"restart intervals", {cv::IMWRITE_JPEG_RST_INTERVAL, 3}},
  };
  std::vector<std::pair<std::string, bytes_t>> files;
  for (auto& [what, params] : variants)
    files.emplace_back(what, encode(img, params));
  files.emplace_back("4:4:4", encode_sampled(img, 1, 1));
  files.emplace_back("4:2:2", encode_sampled(img, 2, 1));
  files.emplace_back("4:1:1 (4x1)", encode_sampled(img, 4, 1));
  for (auto& [what, b] : files) {
    auto whole = decode_jpeg(b.data(), b.size(), no_limit);
    REQUIRE(same_pixels(whole, opencv_decode(b)));
    for (int rows : {1, 2, 7, 16, 17, 64, 202, 203, 500}) {
      INFO(what << ", bands of " << rows << " rows");
      CHECK(same_pixels(banded(b, rows), whole));
    }
  }
  SECTION("grey files come out as 3 equal channels") {
    cv::Mat grey;
    cv::extractChannel(img, grey, 2);
    auto b = encode(grey);
    CHECK(same_pixels(banded(b, 13), opencv_decode(b)));
  }
}

TEST_CASE("bands give OpenCV's pixels on the real frames", "[bands][data]") {
  fs::path shared = SEGFLOW_SHARED_DATA;
  INFO("shared data: " << shared.string());
  std::vector<fs::path> files;
  for (auto& name : {"basic_capture_fullres.jpg", "multiple_test0.jpg"})
    files.push_back(shared / "picamera2-experiments" / name);
  // dev-small's frames, two of dev-a's 12 MP frames and a Santa Cruz frame.
  auto collect = [&](const fs::path& dir, std::size_t at_most) {
    auto found = jpegs_under(dir, at_most);
    files.insert(files.end(), found.begin(), found.end());
  };
  collect(shared / "composed" / "dev-small" / "img", 100);
  collect(shared / "composed" / "dev-a" / "img", 2);
  collect(shared / "santa-cruz-wharf-planktoscope" / "Santa-cruz-wharf_20260304_WW", 1);
  for (auto& f : files) {
    INFO(f.string());
    REQUIRE(fs::exists(f));
    auto b = read_all(f);
    auto whole = cv::imread(f.string(), cv::IMREAD_COLOR);
    REQUIRE(!whole.empty());
    CHECK(same_pixels(banded(b, 64), whole));
    CHECK(same_pixels(banded(b, 37), whole));
  }
}

TEST_CASE("a bad file fails naming it, before its last band", "[bands]") {
  auto good = encode(test_image(320, 240, 12), {cv::IMWRITE_JPEG_QUALITY, 93});

  SECTION("truncated: the band holding the cut fails") {
    bytes_t cut(good.begin(), good.begin() + std::ptrdiff_t(good.size() * 55 / 100));
    int rows = -1;
    auto why = failure_of(cut, 16, "img/cut.jpg", &rows);
    CHECK(why.rfind("img/cut.jpg: truncated or corrupt JPEG: ", 0) == 0);
    CHECK(why.find("Premature end of JPEG file") != std::string::npos);
    CHECK(rows >= 0);
    CHECK(rows < 240);
  }
  SECTION("only the end marker lost: the last band fails") {
    bytes_t cut(good.begin(), good.end() - 2);
    int rows = -1;
    auto why = failure_of(cut, 16, "img/tail.jpg", &rows);
    CHECK(why.rfind("img/tail.jpg: ", 0) == 0);
    // The upsampler decodes one 16-row block ahead: the last or the one
    // before fails, never a band after the cut.
    CHECK(rows >= 240 - 32);
    CHECK(rows < 240);
  }
  SECTION("a marker in the scan data") {
    auto bad = good;
    auto at = bad.size() * 2 / 3;
    bad[at] = 0xFF;
    bad[at + 1] = 0xD9;
    CHECK(failure_of(bad, 8, "img/marker.jpg").rfind("img/marker.jpg: ", 0) == 0);
  }
  SECTION("empty, not a JPEG, corrupt headers") {
    CHECK(failure_of({}, 8, "a.jpg") == "a.jpg: empty file (0 bytes)");
    CHECK(failure_of({'h', 'i', '!'}, 8, "b.jpg")
          == "b.jpg: not a JPEG image (no JPEG start marker)");
    bytes_t head(good.begin(), good.begin() + 40); // cut inside the tables
    CHECK(failure_of(head, 8, "c.jpg").rfind("c.jpg: truncated or corrupt JPEG: ", 0) == 0);
    bytes_t no_width = good; // a frame header that says 0 columns
    for (std::size_t i = 2; i + 9 < no_width.size(); ++i)
      if (no_width[i] == 0xFF && no_width[i + 1] == 0xC0) {
        no_width[i + 7] = no_width[i + 8] = 0;
        break;
      }
    CHECK(failure_of(no_width, 8, "d.jpg").rfind("d.jpg: cannot decode JPEG: ", 0) == 0);
  }
  SECTION("without a name the reason stands alone, as decode_jpeg's") {
    bytes_t cut(good.begin(), good.begin() + std::ptrdiff_t(good.size() / 2));
    CHECK(failure_of(cut, 16, "").rfind("truncated or corrupt JPEG: ", 0) == 0);
  }
  SECTION("after a failure every read fails the same way") {
    bytes_t cut(good.begin(), good.begin() + std::ptrdiff_t(good.size() / 3));
    jpeg_band_reader reader(cut.data(), cut.size(), no_limit, "img/again.jpg");
    cv::Mat band(240, 320, CV_8UC3);
    std::string first;
    try {
      reader.read(band);
    } catch (const decode_error& e) {
      first = e.what();
    }
    REQUIRE_FALSE(first.empty());
    CHECK_THROWS_WITH(reader.read(band), first);
    CHECK_FALSE(reader.done());
  }
}

TEST_CASE("the reader refuses large frames before allocating, and stops when asked",
          "[bands]") {
  auto good = encode(test_image(64, 48, 13));
  SECTION("the pixel limit is checked at start") {
    jpeg_band_reader reader(good.data(), good.size(), 64 * 48 - 1, "img/big.jpg");
    CHECK(reader.coded_size() == cv::Size(64, 48)); // the headers are read
    CHECK_THROWS_WITH(reader.start(), "img/big.jpg: 64x48 exceeds the limit of 3071 pixels");
  }
  SECTION("on_band returning false stops before the next band") {
    jpeg_band_reader reader(good.data(), good.size(), no_limit, "img/stop.jpg");
    cv::Mat band;
    int calls = 0;
    bool complete = decode_bands(reader, 10, band, [&](int first, const cv::Mat&) {
      ++calls;
      return first < 10; // stop after the second band
    });
    CHECK_FALSE(complete);
    CHECK(calls == 2);
    CHECK(reader.next_row() == 20);
    CHECK_FALSE(reader.done());
  }
  SECTION("the headers as probe_jpeg reads them") {
    jpeg_band_reader reader(good.data(), good.size(), no_limit);
    auto probed = seg::kernels::probe_jpeg(good.data(), good.size());
    REQUIRE(probed);
    CHECK(reader.info().coded == probed->coded);
    CHECK(reader.components() == 3);
    CHECK(reader.orientation() == 1);
  }
}
