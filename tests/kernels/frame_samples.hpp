#pragma once
// PNG and TIFF test frames of the kinds OpenCV's writers cannot make
// (palette, grey+alpha, interlaced, tiled, YCbCr, rotated, several pages),
// written with libpng and libtiff directly; and a hand-made uncompressed
// TIFF whose directory comes first, so truncating it cuts pixels, not the
// directory (libtiff writes its directory last).

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <png.h>
#include <unistd.h>
#include <tiffio.h>

#include "tests/kernels/jpeg_samples.hpp"

namespace seg::test {

struct png_spec {
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<png_color> palette;
  std::vector<std::uint8_t> alpha_of_palette; ///< tRNS of a palette image
};

inline png_spec png_kind(int color_type, int bit_depth, bool interlaced = false) {
  png_spec s;
  s.color_type = color_type;
  s.bit_depth = bit_depth;
  s.interlaced = interlaced;
  return s;
}

// `samples`: one sample per byte (or per 16-bit word), in the file's order
// (R, G, B, A; palette indices; grey values below 2^bit_depth).
inline bytes_t write_png(const cv::Mat& samples, const png_spec& spec) {
  bytes_t out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  REQUIRE((png != nullptr && info != nullptr));
  png_set_write_fn(
    png, &out,
    [](png_structp p, png_bytep data, std::size_t n) {
      auto* o = static_cast<bytes_t*>(png_get_io_ptr(p));
      o->insert(o->end(), data, data + n);
    },
    nullptr);
  png_set_IHDR(png, info, png_uint_32(samples.cols), png_uint_32(samples.rows), spec.bit_depth,
               spec.color_type, spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!spec.palette.empty())
    png_set_PLTE(png, info, spec.palette.data(), int(spec.palette.size()));
  if (!spec.alpha_of_palette.empty())
    png_set_tRNS(png, info, spec.alpha_of_palette.data(), int(spec.alpha_of_palette.size()),
                 nullptr);
  png_write_info(png, info);
  if (spec.bit_depth < 8)
    png_set_packing(png);
  if (spec.bit_depth == 16)
    png_set_swap(png); // little-endian words to PNG's big-endian
  std::vector<png_bytep> rows;
  for (int y = 0; y < samples.rows; ++y)
    rows.push_back(const_cast<png_bytep>(samples.ptr<std::uint8_t>(y)));
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

struct tiff_spec {
  std::uint16_t photometric = PHOTOMETRIC_RGB;
  std::uint16_t compression = COMPRESSION_NONE;
  std::uint16_t planar = PLANARCONFIG_CONTIG;
  std::uint16_t orientation = ORIENTATION_TOPLEFT;
  std::uint16_t sample_format = SAMPLEFORMAT_UINT;
  std::vector<std::uint16_t> extras; ///< kinds of the extra samples (alpha)
  std::vector<std::uint16_t> colormap; ///< red, green, blue maps of a palette image
  int tile = 0;                        ///< tile side (16's multiple); 0: strips
  int rows_per_strip = 16;
  int pages = 1; ///< each page the same image
  bool previews = false; ///< pages after the first are reduced-resolution ones
};

// `samples`: interleaved in the file's order (R, G, B, extras); 8, 16 or
// 32-bit float. Written through a file: libtiff writes to files.
inline bytes_t write_tiff(const cv::Mat& samples, const tiff_spec& spec) {
  static int serial = 0;
  auto path = std::filesystem::temp_directory_path()
              / ("segflow-frame-test-" + std::to_string(::getpid()) + "-"
                 + std::to_string(serial++) + ".tif");
  TIFF* t = TIFFOpen(path.c_str(), "w");
  REQUIRE(t != nullptr);
  const int spp = samples.channels();
  const int bits = int(samples.elemSize1()) * 8;
  for (int page = 0; page < spec.pages; ++page) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, std::uint32_t(samples.cols));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, std::uint32_t(samples.rows));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, std::uint16_t(bits));
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t(spp));
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, spec.sample_format);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, spec.photometric);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, spec.planar);
    TIFFSetField(t, TIFFTAG_ORIENTATION, spec.orientation);
    TIFFSetField(t, TIFFTAG_COMPRESSION, spec.compression);
    if (spec.compression == COMPRESSION_JPEG && spec.photometric == PHOTOMETRIC_YCBCR)
      TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB); // we give RGB
    if (!spec.extras.empty())
      TIFFSetField(t, TIFFTAG_EXTRASAMPLES, std::uint16_t(spec.extras.size()),
                   spec.extras.data());
    if (!spec.colormap.empty()) {
      const std::size_t n = spec.colormap.size() / 3;
      TIFFSetField(t, TIFFTAG_COLORMAP, spec.colormap.data(), spec.colormap.data() + n,
                   spec.colormap.data() + 2 * n);
    }
    if (spec.pages > 1) {
      TIFFSetField(t, TIFFTAG_SUBFILETYPE,
                   page > 0 && spec.previews ? FILETYPE_REDUCEDIMAGE : FILETYPE_PAGE);
      TIFFSetField(t, TIFFTAG_PAGENUMBER, std::uint16_t(page), std::uint16_t(spec.pages));
    }
    const std::size_t pixel = samples.elemSize();
    if (spec.tile > 0) {
      TIFFSetField(t, TIFFTAG_TILEWIDTH, std::uint32_t(spec.tile));
      TIFFSetField(t, TIFFTAG_TILELENGTH, std::uint32_t(spec.tile));
      std::vector<std::uint8_t> tile(std::size_t(spec.tile) * spec.tile * pixel, 0);
      for (int ty = 0; ty < samples.rows; ty += spec.tile)
        for (int tx = 0; tx < samples.cols; tx += spec.tile) {
          std::fill(tile.begin(), tile.end(), 0);
          for (int y = 0; y < spec.tile && ty + y < samples.rows; ++y) {
            int n = std::min(spec.tile, samples.cols - tx);
            std::memcpy(tile.data() + std::size_t(y) * spec.tile * pixel,
                        samples.ptr<std::uint8_t>(ty + y) + std::size_t(tx) * pixel,
                        std::size_t(n) * pixel);
          }
          REQUIRE(TIFFWriteTile(t, tile.data(), std::uint32_t(tx), std::uint32_t(ty), 0, 0)
                  >= 0);
        }
    } else {
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, std::uint32_t(spec.rows_per_strip));
      const int strips = (samples.rows + spec.rows_per_strip - 1) / spec.rows_per_strip;
      const int planes = spec.planar == PLANARCONFIG_SEPARATE ? spp : 1;
      const std::size_t plane_pixel = planes == 1 ? pixel : samples.elemSize1();
      for (int plane = 0; plane < planes; ++plane)
        for (int s = 0; s < strips; ++s) {
          int y0 = s * spec.rows_per_strip;
          int n = std::min(spec.rows_per_strip, samples.rows - y0);
          std::vector<std::uint8_t> strip(std::size_t(n) * samples.cols * plane_pixel);
          for (int y = 0; y < n; ++y)
            for (int x = 0; x < samples.cols; ++x)
              std::memcpy(strip.data() + (std::size_t(y) * samples.cols + x) * plane_pixel,
                          samples.ptr<std::uint8_t>(y0 + y) + x * pixel
                            + (planes == 1 ? 0 : plane * samples.elemSize1()),
                          plane_pixel);
          REQUIRE(TIFFWriteEncodedStrip(t, std::uint32_t(plane * strips + s), strip.data(),
                                        tmsize_t(strip.size()))
                  >= 0);
        }
    }
    REQUIRE(TIFFWriteDirectory(t));
  }
  TIFFClose(t);
  auto bytes = read_all(path);
  std::filesystem::remove(path);
  return bytes;
}

// An uncompressed 8-bit RGB TIFF, little-endian: header, directory, then the
// pixels in one strip. `declared` is the size the directory says (the pixels
// written are `rgb`'s, so a larger size describes pixels that are missing).
inline bytes_t directory_first_tiff(const cv::Mat& rgb, cv::Size declared) {
  bytes_t b;
  auto u16 = [&](unsigned v) {
    b.push_back(std::uint8_t(v));
    b.push_back(std::uint8_t(v >> 8));
  };
  auto u32 = [&](std::uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  };
  const std::uint32_t entries = 9;
  const std::uint32_t bps_at = 8 + 2 + entries * 12 + 4;
  const std::uint32_t data_at = bps_at + 6;
  const auto data_bytes = std::uint32_t(std::uint64_t(declared.width) * declared.height * 3);
  b = {'I', 'I'};
  u16(42);
  u32(8);
  u16(entries);
  auto entry = [&](unsigned tag, unsigned type, std::uint32_t count, std::uint32_t value) {
    u16(tag);
    u16(type);
    u32(count);
    u32(value);
  };
  entry(256, 4, 1, std::uint32_t(declared.width));  // ImageWidth
  entry(257, 4, 1, std::uint32_t(declared.height)); // ImageLength
  entry(258, 3, 3, bps_at);                         // BitsPerSample 8,8,8
  entry(259, 3, 1, 1);                              // no compression
  entry(262, 3, 1, 2);                              // RGB
  entry(273, 4, 1, data_at);                        // StripOffsets
  entry(277, 3, 1, 3);                              // SamplesPerPixel
  entry(278, 4, 1, std::uint32_t(declared.height)); // RowsPerStrip
  entry(279, 4, 1, data_bytes);                     // StripByteCounts
  u32(0);
  u16(8);
  u16(8);
  u16(8);
  for (int y = 0; y < rgb.rows; ++y)
    b.insert(b.end(), rgb.ptr<std::uint8_t>(y), rgb.ptr<std::uint8_t>(y) + rgb.cols * 3);
  return b;
}

} // namespace seg::test
