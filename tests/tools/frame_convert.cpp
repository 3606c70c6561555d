// Rewrites a JPEG frame losslessly as PNG or TIFF for tests/cli/frame_formats.sh:
// the JPEG decoded by segflow's decoder (kernels::decode_jpeg), written by
// OpenCV in the format OUT's extension names, and checked: OpenCV's reader
// must read OUT back to exactly the decoded pixels, or nothing is left.
//
// Usage: frame_convert IN.jpg OUT.png|OUT.tif [COMPRESSION]
//   COMPRESSION: TIFF compression tag value (1 none, 5 LZW, 8 Deflate,
//   32773 PackBits; OpenCV's default otherwise)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "kernels/decode.hpp"

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
  std::vector<int> params;
  if (argc == 4)
    params = {cv::IMWRITE_TIFF_COMPRESSION, std::stoi(argv[3])};
  if (!cv::imwrite(out, frame, params)) {
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
