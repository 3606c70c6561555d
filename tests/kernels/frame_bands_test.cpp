// PNG and TIFF frames read in bands (kernels::frame_band_reader): whatever
// the band height, cv::imread(IMREAD_COLOR)'s pixels for every kind
// supported; refused kinds, truncated files and oversized frames fail with
// the file's name, the latter before any pixel memory.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "kernels/correct_bands.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/flat_stream.hpp"
#include "kernels/frame_bands.hpp"
#include "tests/kernels/frame_samples.hpp"
#include "tests/kernels/jpeg_samples.hpp"

using seg::kernels::decode_bands;
using seg::kernels::decode_error;
using seg::kernels::decode_frame;
using seg::kernels::frame_band_reader;
using namespace seg::test;

namespace {

constexpr std::int64_t no_limit = no_pixel_limit;

bytes_t encoded(const cv::Mat& img, const std::string& ext, std::vector<int> params = {}) {
  std::vector<uchar> out;
  REQUIRE(cv::imencode(ext, img, out, params));
  return bytes_t(out.begin(), out.end());
}

// The frame decoded band by band into one image.
cv::Mat in_bands(const bytes_t& b, int band_rows, const std::string& name = "frame") {
  frame_band_reader reader(b.data(), b.size(), no_limit, name);
  cv::Mat whole(reader.coded_size(), CV_8UC3, cv::Scalar::all(7));
  cv::Mat band;
  int expected_first = 0;
  bool complete = decode_bands(reader, band_rows, band, [&](int first, const cv::Mat& rows) {
    CHECK(first == expected_first);
    expected_first += rows.rows;
    rows.copyTo(whole.rowRange(first, first + rows.rows));
    return true;
  });
  CHECK(complete);
  CHECK(reader.done());
  CHECK(reader.next_row() == whole.rows);
  return whole;
}

// Band reader and whole decode give `expected`.
void check_gives(const bytes_t& b, const cv::Mat& expected) {
  REQUIRE_FALSE(expected.empty());
  for (int band_rows : {1, 7, 16, 1000})
    CHECK(same_pixels(in_bands(b, band_rows), expected));
  CHECK(same_pixels(decode_frame(b.data(), b.size(), no_limit), expected));
  auto size = seg::kernels::frame_size(b.data(), b.size());
  REQUIRE(size);
  CHECK(*size == expected.size());
}

// cv::imread of the bytes written to a file.
cv::Mat opencv_read_via_file(const bytes_t& b, const std::string& ext) {
  auto path = std::filesystem::temp_directory_path()
              / ("segflow-frame-read-" + std::to_string(::getpid()) + ext);
  std::ofstream(path, std::ios::binary)
    .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  cv::Mat m = cv::imread(path.string(), cv::IMREAD_COLOR);
  std::filesystem::remove(path);
  return m;
}

// Band reader and whole decode equal OpenCV's reader for this file.
void check_like_opencv(const bytes_t& b) { check_gives(b, opencv_decode(b)); }

std::string failure_of(const bytes_t& b, const std::string& name) {
  try {
    in_bands(b, 8, name);
  } catch (const decode_error& e) {
    return e.what();
  }
  return "(decoded)";
}

// A grey level image with structure in every sample.
cv::Mat samples(int w, int h, int channels, int depth, unsigned seed) {
  cv::Mat bgr = test_image(w, h, seed);
  std::vector<cv::Mat> planes;
  cv::split(bgr, planes);
  std::vector<cv::Mat> out;
  for (int c = 0; c < channels; ++c) {
    cv::Mat p = planes[std::size_t(c % 3)].clone();
    if (c == 3)
      p = 255 - p / 2; // an alpha that varies
    out.push_back(p);
  }
  cv::Mat m;
  cv::merge(out, m);
  if (depth == CV_16U)
    m.convertTo(m, CV_16U, 257.0, 3); // low bytes that differ from the high ones
  return m;
}

} // namespace

TEST_CASE("PNGs written by OpenCV read in bands as imread reads them", "[frames][png]") {
  for (int channels : {1, 3, 4})
    for (int depth : {CV_8U, CV_16U}) {
      INFO("channels " << channels << ", depth " << depth);
      check_like_opencv(encoded(samples(57, 43, channels, depth, 3), ".png"));
    }
}

TEST_CASE("PNG kinds OpenCV cannot write read as imread reads them", "[frames][png]") {
  const int w = 45, h = 37;
  SECTION("grey with alpha") {
    cv::Mat ga = samples(w, h, 2, CV_8U, 5);
    check_like_opencv(write_png(ga, png_kind(PNG_COLOR_TYPE_GRAY_ALPHA, 8)));
  }
  SECTION("palette, with transparent entries") {
    auto spec = png_kind(PNG_COLOR_TYPE_PALETTE, 8);
    for (int i = 0; i < 256; ++i)
      spec.palette.push_back({png_byte(i), png_byte(255 - i), png_byte(i * 7)});
    spec.alpha_of_palette = {0, 10, 128, 255, 3};
    cv::Mat index = samples(w, h, 1, CV_8U, 6);
    check_like_opencv(write_png(index, spec));
  }
  SECTION("4-bit palette and 1-bit grey") {
    auto spec = png_kind(PNG_COLOR_TYPE_PALETTE, 4);
    for (int i = 0; i < 16; ++i)
      spec.palette.push_back({png_byte(i * 16), png_byte(200 - i), png_byte(i * 3)});
    cv::Mat index = samples(w, h, 1, CV_8U, 7) / 16;
    check_like_opencv(write_png(index, spec));
    cv::Mat bits = samples(w, h, 1, CV_8U, 8) / 128;
    check_like_opencv(write_png(bits, png_kind(PNG_COLOR_TYPE_GRAY, 1)));
  }
  SECTION("an eXIf orientation, before or after the image data, applied as imread does") {
    cv::Mat rgb = samples(w, h, 3, CV_8U, 11);
    const cv::Mat upright = opencv_decode(write_png(rgb, png_kind(PNG_COLOR_TYPE_RGB, 8)));
    for (bool after : {false, true})
      for (int orientation : {2, 3, 6, 8}) {
        INFO("orientation " << orientation << (after ? ", after IDAT" : ", before IDAT"));
        auto spec = png_kind(PNG_COLOR_TYPE_RGB, 8);
        spec.exif = exif_tiff(orientation, orientation % 2 == 0);
        spec.exif_after_image = after;
        auto b = write_png(rgb, spec);
        cv::Mat want = opencv_decode(b);
        CHECK(want.size() == (orientation >= 5 ? cv::Size(h, w) : cv::Size(w, h)));
        CHECK(same_pixels(decode_frame(b.data(), b.size(), no_limit), want));
        frame_band_reader reader(b.data(), b.size(), no_limit);
        CHECK(reader.orientation() == orientation);
        CHECK(reader.info().decoded == want.size());
        CHECK(same_pixels(in_bands(b, 7), upright)); // bands come in coded order
      }
  }
  SECTION("interlaced (Adam7), colour and grey") {
    cv::Mat rgb = samples(w, h, 3, CV_8U, 9);
    check_like_opencv(write_png(rgb, png_kind(PNG_COLOR_TYPE_RGB, 8, true)));
    cv::Mat grey = samples(w, h, 1, CV_8U, 10);
    check_like_opencv(write_png(grey, png_kind(PNG_COLOR_TYPE_GRAY, 8, true)));
  }
}

TEST_CASE("TIFFs written by OpenCV read in bands as imread reads them", "[frames][tiff]") {
  for (int compression : {1, 5, 8, 32773}) // none, LZW, Deflate, PackBits
    for (int channels : {1, 3, 4}) {
      INFO("compression " << compression << ", channels " << channels);
      check_like_opencv(encoded(samples(61, 47, channels, CV_8U, 11), ".tiff",
                                {cv::IMWRITE_TIFF_COMPRESSION, compression}));
    }
  SECTION("16-bit samples") {
    check_like_opencv(encoded(samples(61, 47, 3, CV_16U, 12), ".tiff"));
    check_like_opencv(encoded(samples(61, 47, 1, CV_16U, 13), ".tiff"));
  }
}

TEST_CASE("TIFF kinds read through libtiff's RGBA interface match imread", "[frames][tiff]") {
  const int w = 70, h = 53; // not multiples of strips or tiles
  cv::Mat rgb = samples(w, h, 3, CV_8U, 21);
  SECTION("tiled organisation") {
    // OpenCV 4.6 reads uncompressed tiled TIFFs from files but not from
    // memory (imdecode fails): imread of the file is the reference.
    tiff_spec spec;
    spec.tile = 16;
    check_gives(write_tiff(rgb, spec), opencv_read_via_file(write_tiff(rgb, spec), ".tif"));
    spec.compression = COMPRESSION_LZW;
    check_like_opencv(write_tiff(rgb, spec));
    cv::Mat grey = samples(w, h, 1, CV_8U, 22);
    spec.photometric = PHOTOMETRIC_MINISBLACK;
    check_like_opencv(write_tiff(grey, spec));
    spec.compression = COMPRESSION_NONE;
    check_gives(write_tiff(grey, spec), opencv_read_via_file(write_tiff(grey, spec), ".tif"));
  }
  SECTION("separate planes") {
    tiff_spec spec;
    spec.planar = PLANARCONFIG_SEPARATE;
    check_like_opencv(write_tiff(rgb, spec));
  }
  SECTION("palette and min-is-white") {
    tiff_spec spec;
    spec.photometric = PHOTOMETRIC_PALETTE;
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 256; ++i)
        spec.colormap.push_back(std::uint16_t((i * (c + 1) * 97) % 65536));
    check_like_opencv(write_tiff(samples(w, h, 1, CV_8U, 23), spec));
    tiff_spec white;
    white.photometric = PHOTOMETRIC_MINISWHITE;
    check_like_opencv(write_tiff(samples(w, h, 1, CV_8U, 24), white));
  }
  SECTION("unassociated and associated alpha") {
    tiff_spec spec;
    spec.extras = {EXTRASAMPLE_UNASSALPHA};
    cv::Mat rgba = samples(w, h, 4, CV_8U, 25);
    check_like_opencv(write_tiff(rgba, spec));
    spec.extras = {EXTRASAMPLE_ASSOCALPHA};
    check_like_opencv(write_tiff(rgba, spec));
  }
  SECTION("JPEG-compressed YCbCr and RGB") {
    tiff_spec spec;
    spec.compression = COMPRESSION_JPEG;
    spec.photometric = PHOTOMETRIC_YCBCR;
    check_like_opencv(write_tiff(rgb, spec));
    spec.photometric = PHOTOMETRIC_RGB;
    check_like_opencv(write_tiff(rgb, spec));
  }
  SECTION("one strip for the whole frame") {
    tiff_spec spec;
    spec.rows_per_strip = h;
    spec.compression = COMPRESSION_ADOBE_DEFLATE;
    check_like_opencv(write_tiff(rgb, spec));
  }
}

TEST_CASE("frame kinds that are refused say why, naming the file", "[frames]") {
  cv::Mat rgb = samples(40, 30, 3, CV_8U, 31);
  SECTION("a rotated TIFF") {
    tiff_spec spec;
    spec.orientation = ORIENTATION_RIGHTTOP;
    CHECK(failure_of(write_tiff(rgb, spec), "img/r.tif")
          == "img/r.tif: TIFF orientation 6 is not supported (only 1, rows top to bottom, "
             "columns left to right)");
  }
  SECTION("a multi-page TIFF") {
    tiff_spec spec;
    spec.pages = 3;
    CHECK(failure_of(write_tiff(rgb, spec), "img/m.tif")
          == "img/m.tif: multi-page TIFF (3 pages) is not supported: a frame is one page");
    // Pages with extra samples (what the first page's fields point to is
    // freed when the others are looked at).
    tiff_spec alpha = spec;
    alpha.extras = {EXTRASAMPLE_UNASSALPHA};
    alpha.pages = 2;
    CHECK(failure_of(write_tiff(samples(40, 30, 4, CV_8U, 32), alpha), "img/a.tif")
          == "img/a.tif: multi-page TIFF (2 pages) is not supported: a frame is one page");
  }
  SECTION("reduced-resolution pages after the first are previews, not pages") {
    tiff_spec spec;
    spec.pages = 3;
    spec.previews = true;
    spec.extras = {EXTRASAMPLE_UNASSALPHA};
    check_like_opencv(write_tiff(samples(40, 30, 4, CV_8U, 33), spec));
  }
  SECTION("floating-point samples") {
    cv::Mat f;
    rgb.convertTo(f, CV_32F, 1 / 255.0);
    tiff_spec spec;
    spec.sample_format = SAMPLEFORMAT_IEEEFP;
    CHECK(failure_of(write_tiff(f, spec), "img/f.tif")
          == "img/f.tif: TIFF with floating-point samples is not supported (unsigned "
             "integer samples only)");
    CHECK(failure_of(encoded(f, ".tiff"), "img/f2.tif").rfind("img/f2.tif: TIFF with", 0) == 0);
  }
  SECTION("neither JPEG, PNG nor TIFF") {
    CHECK(failure_of({'G', 'I', 'F', '8', '9', 'a'}, "img/g.png")
          == "img/g.png: not a JPEG, PNG or TIFF image (unknown signature)");
    CHECK(failure_of({}, "img/e.png") == "img/e.png: empty file (0 bytes)");
  }
}

TEST_CASE("truncated or corrupt PNG and TIFF frames fail, never decode to padding",
          "[frames]") {
  cv::Mat rgb = samples(64, 48, 3, CV_8U, 41);
  auto cut = [](const bytes_t& b, std::size_t keep) {
    return bytes_t(b.begin(), b.begin() + std::ptrdiff_t(keep));
  };
  SECTION("PNG cut in its pixels, before IEND, or with a bad CRC") {
    for (bool interlaced : {false, true}) {
      auto png = write_png(rgb, png_kind(PNG_COLOR_TYPE_RGB, 8, interlaced));
      for (std::size_t keep : {png.size() / 3, png.size() * 2 / 3, png.size() - 12,
                               png.size() - 1, std::size_t(30)}) {
        INFO("interlaced " << interlaced << ", kept " << keep << " of " << png.size());
        CHECK(failure_of(cut(png, keep), "img/t.png").rfind("img/t.png: truncated or corrupt PNG: ", 0)
              == 0);
      }
      auto flipped = png;
      flipped[flipped.size() / 2] ^= 0x40; // inside IDAT: its CRC no longer matches
      CHECK(failure_of(flipped, "img/c.png").rfind("img/c.png: truncated or corrupt PNG: ", 0)
            == 0);
    }
  }
  SECTION("TIFF written by libtiff (pixels first, directory last)") {
    for (int compression : {1, 5, 8}) {
      auto tif = encoded(rgb, ".tiff", {cv::IMWRITE_TIFF_COMPRESSION, compression});
      for (std::size_t keep : {tif.size() / 2, tif.size() - 1, std::size_t(6)}) {
        INFO("compression " << compression << ", kept " << keep);
        CHECK(failure_of(cut(tif, keep), "img/t.tif").rfind("img/t.tif: truncated or corrupt TIFF: ", 0)
              == 0);
      }
    }
  }
  SECTION("TIFF whose directory comes first: the pixels cut") {
    cv::Mat planes_rgb;
    cv::cvtColor(rgb, planes_rgb, cv::COLOR_BGR2RGB);
    auto whole = directory_first_tiff(planes_rgb, rgb.size());
    CHECK(same_pixels(in_bands(whole, 5), rgb)); // the hand-made file is sound
    CHECK(same_pixels(opencv_decode(whole), rgb));
    for (std::size_t keep : {whole.size() / 2, whole.size() - 1}) {
      INFO("kept " << keep << " of " << whole.size());
      CHECK(failure_of(cut(whole, keep), "img/p.tif").rfind("img/p.tif: truncated or corrupt TIFF: ", 0)
            == 0);
    }
  }
  SECTION("a JPEG-compressed TIFF with corrupt data in a strip") {
    tiff_spec spec;
    spec.compression = COMPRESSION_JPEG;
    spec.photometric = PHOTOMETRIC_YCBCR;
    spec.rows_per_strip = 48;
    auto tif = write_tiff(rgb, spec);
    REQUIRE(same_pixels(in_bands(tif, 8), opencv_decode(tif)));
    // An end-of-image marker inside the strip's scan data: libjpeg only
    // warns ("premature end of data segment") and pads, OpenCV's reader too.
    auto bad = tif;
    bad[bad.size() / 3] = 0xFF;
    bad[bad.size() / 3 + 1] = 0xD9;
    CHECK_FALSE(opencv_decode(bad).empty());
    CHECK_THAT(failure_of(bad, "img/j.tif"),
               Catch::StartsWith("img/j.tif: truncated or corrupt TIFF: JPEGLib: "));
  }
  SECTION("a tiled TIFF cut in its tiles") {
    tiff_spec spec;
    spec.tile = 16;
    auto tif = write_tiff(rgb, spec);
    CHECK(failure_of(cut(tif, tif.size() / 2), "img/tt.tif")
            .rfind("img/tt.tif: truncated or corrupt TIFF: ", 0)
          == 0);
  }
}

TEST_CASE("oversized PNG and TIFF frames are refused before any pixel memory",
          "[frames]") {
  SECTION("TIFF: a directory declaring 50000 x 40000 pixels that are not there") {
    cv::Mat tiny(2, 2, CV_8UC3, cv::Scalar::all(9));
    auto tif = directory_first_tiff(tiny, {50000, 40000});
    frame_band_reader reader(tif.data(), tif.size(), 100'000'000, "img/big.tif");
    CHECK(reader.coded_size() == cv::Size(50000, 40000));
    CHECK_THROWS_WITH(reader.start(),
                      "img/big.tif: 50000x40000 exceeds the limit of 100000000 pixels");
    auto size = seg::kernels::frame_size(tif.data(), tif.size());
    REQUIRE(size);
    CHECK(*size == cv::Size(50000, 40000));
  }
  SECTION("PNG: the limit from IHDR, checked at start") {
    auto png = encoded(samples(64, 48, 3, CV_8U, 51), ".png");
    frame_band_reader reader(png.data(), png.size(), 64 * 48 - 1, "img/big.png");
    CHECK(reader.coded_size() == cv::Size(64, 48));
    CHECK_THROWS_WITH(reader.start(), "img/big.png: 64x48 exceeds the limit of 3071 pixels");
    cv::Mat out;
    CHECK_THROWS_AS(decode_frame(png.data(), png.size(), 64 * 48 - 1, out), decode_error);
    CHECK(out.empty());
  }
}

TEST_CASE("PNG and TIFF frames go through banded correction and the streamed flat",
          "[frames]") {
  const int w = 80, h = 60;
  std::vector<bytes_t> frames;
  std::vector<cv::Mat> decoded;
  for (unsigned i = 0; i < 3; ++i) {
    cv::Mat img = test_image(w, h, 60 + i);
    frames.push_back(i == 1 ? encoded(img, ".tiff") : encoded(img, ".png"));
    decoded.push_back(img);
    CHECK(same_pixels(decode_frame(frames.back().data(), frames.back().size(), no_limit), img));
  }
  std::vector<frame_band_reader> readers;
  for (auto& f : frames)
    readers.emplace_back(f.data(), f.size(), no_limit);
  seg::kernels::streamed_flat streamed(std::move(readers), 7);
  cv::Mat flat;
  while (!streamed.advance(flat, 10)) {
  }
  CHECK(same_pixels(flat, seg::kernels::median_flat(decoded)));

  cv::Mat out, gray, expected_out, expected_gray;
  seg::kernels::gray_histogram hist{}, expected_hist{};
  seg::kernels::decode_correct_gray(frames[1].data(), frames[1].size(), no_limit, flat, 9, out,
                                    gray, hist);
  seg::kernels::correct_frame_gray(decoded[1], flat, expected_out, expected_gray,
                                   expected_hist);
  CHECK(same_pixels(out, expected_out));
  CHECK(same_pixels(gray, expected_gray));
  CHECK(hist == expected_hist);
}

TEST_CASE("tiled frames must be read in bands: rotated and interlaced ones are refused",
          "[frames]") {
  cv::Mat rgb = samples(40, 30, 3, CV_8U, 81);
  auto info_of = [](const bytes_t& b) {
    auto info = seg::kernels::probe_frame(b.data(), b.size());
    REQUIRE(info);
    return *info;
  };
  using seg::kernels::tiled_frame_problem;
  CHECK(tiled_frame_problem(info_of(write_png(rgb, png_kind(PNG_COLOR_TYPE_RGB, 8)))).empty());
  CHECK(tiled_frame_problem(info_of(encoded(rgb, ".tiff"))).empty());
  CHECK(tiled_frame_problem(info_of(encode(rgb))).empty());
  CHECK(tiled_frame_problem(info_of(with_orientation(encode(rgb), 6, true)))
        == "EXIF orientation 6: a tiled frame is read in bands of rows and must not be rotated");
  auto rotated = png_kind(PNG_COLOR_TYPE_RGB, 8);
  rotated.exif = exif_tiff(8, false);
  CHECK(tiled_frame_problem(info_of(write_png(rgb, rotated)))
        == "EXIF orientation 8: a tiled frame is read in bands of rows and must not be rotated");
  auto interlaced = write_png(rgb, png_kind(PNG_COLOR_TYPE_RGB, 8, true));
  CHECK(info_of(interlaced).decoded_whole);
  CHECK(tiled_frame_problem(info_of(interlaced))
        == "interlaced PNG: a tiled frame is read in bands of rows and must not be interlaced "
           "(its passes span the whole frame)");
  std::vector<frame_band_reader> readers;
  readers.emplace_back(interlaced.data(), interlaced.size(), no_limit);
  CHECK_THROWS_AS(seg::kernels::streamed_flat(std::move(readers), 8), std::invalid_argument);
}

TEST_CASE("a JPEG through the frame reader is the JPEG reader's", "[frames]") {
  auto jpeg = encode(test_image(50, 40, 71));
  CHECK(same_pixels(in_bands(jpeg, 6), opencv_decode(jpeg)));
  auto probed = seg::kernels::probe_frame(jpeg.data(), jpeg.size());
  REQUIRE(probed);
  CHECK(probed->coded == cv::Size(50, 40));
  auto png = encoded(test_image(50, 40, 72), ".png");
  probed = seg::kernels::probe_frame(png.data(), png.size());
  REQUIRE(probed);
  CHECK(probed->coded == cv::Size(50, 40));
  CHECK(probed->orientation == 1);
  CHECK(probed->components == 3);
  std::string why;
  CHECK_FALSE(seg::kernels::probe_frame(png.data(), 20, &why));
  CHECK(why.rfind("truncated or corrupt PNG: ", 0) == 0);
}
