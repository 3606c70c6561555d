// Rewrites a JPEG frame losslessly as PNG or TIFF for tests/cli/frame_formats.sh:
// the JPEG decoded by segflow's decoder (kernels::decode_jpeg), written by
// OpenCV in the format OUT's extension names, and checked: OpenCV's reader
// must read OUT back to exactly the decoded pixels, or nothing is left.
//
// Usage: frame_convert IN.jpg OUT.png|OUT.tif [COMPRESSION|interlaced]
//   COMPRESSION: TIFF compression tag value (1 none, 5 LZW, 8 Deflate,
//   32773 PackBits; OpenCV's default otherwise)
//   interlaced: an Adam7-interlaced PNG, written with libpng (OpenCV's
//   writer has no such option)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <png.h>

#include "kernels/decode.hpp"

namespace {

// The BGR frame as an interlaced 8-bit RGB PNG.
bool write_interlaced_png(const std::string& path, const cv::Mat& bgr) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png)) != 0) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, png_uint_32(bgr.cols), png_uint_32(bgr.rows), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_set_bgr(png);
  std::vector<png_bytep> rows;
  for (int y = 0; y < bgr.rows; ++y)
    rows.push_back(const_cast<png_bytep>(bgr.ptr<std::uint8_t>(y)));
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(f) == 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: frame_convert IN.jpg OUT.png|OUT.tif [COMPRESSION]\n");
    return 2;
  }
  const std::string in = argv[1], out = argv[2];
  std::ifstream file(in, std::ios::binary);
  std::vector<std::uint8_t> bytes(std::istreambuf_iterator<char>(file), {});
  cv::Mat frame;
  try {
    frame = seg::kernels::decode_jpeg(bytes.data(), bytes.size(), 1'000'000'000);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", in.c_str(), e.what());
    return 1;
  }
  const std::string option = argc == 4 ? argv[3] : "";
  std::vector<int> params;
  if (!option.empty() && option != "interlaced")
    params = {cv::IMWRITE_TIFF_COMPRESSION, std::stoi(option)};
  if (!(option == "interlaced" ? write_interlaced_png(out, frame)
                               : cv::imwrite(out, frame, params))) {
    std::fprintf(stderr, "%s: OpenCV cannot write it\n", out.c_str());
    return 1;
  }
  cv::Mat back = cv::imread(out, cv::IMREAD_COLOR);
  if (back.size() != frame.size() || back.type() != frame.type()
      || cv::norm(back, frame, cv::NORM_INF) != 0) {
    std::filesystem::remove(out);
    std::fprintf(stderr, "%s: does not read back as %s's pixels\n", out.c_str(), in.c_str());
    return 1;
  }
  return 0;
}
