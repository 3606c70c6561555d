// Runs one step of a worker's frame REPEAT times on a real frame, for counting
// instructions under an emulator (qemu gives no real timings): the count of
// REPEAT = 1 minus that of REPEAT = 0 is one frame's, the set-up cancelling.
//   frame_steps ACQ_DIR decode|correct|frame REPEAT best|simd128|scalar
// decode: the worker's JPEG decode (libjpeg-turbo);
// correct: correct_frame_gray (correction, gray image, histogram);
// frame: that, then mask, labels, features and crops, as a worker does.
// The flat is the acquisition's first frame (one decode instead of nine).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "kernels/correct.hpp"
#include "kernels/decode.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"

namespace fs = std::filesystem;
using namespace seg::kernels;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: frame_steps ACQ_DIR decode|correct|frame REPEAT best|simd128|scalar\n");
    return 2;
  }
  const std::string step = argv[2], path = argv[4];
  const int repeat = std::stoi(argv[3]);
  use_vector_path(path == "scalar"    ? vector_path::scalar
                  : path == "simd128" ? vector_path::simd128
                                      : vector_path::best);
  std::vector<fs::path> frames;
  for (const auto& e : fs::directory_iterator(argv[1]))
    if (e.path().extension() == ".jpg")
      frames.push_back(e.path());
  std::sort(frames.begin(), frames.end());
  if (frames.size() < 2) {
    std::fprintf(stderr, "frame_steps: %s has fewer than 2 frames\n", argv[1]);
    return 2;
  }
  const cv::Mat flat = cv::imread(frames.front().string(), cv::IMREAD_COLOR);
  std::ifstream in(frames[std::min<std::size_t>(10, frames.size() - 1)], std::ios::binary);
  const std::vector<std::uint8_t> jpeg{std::istreambuf_iterator<char>(in), {}};
  cv::Mat raw = decode_jpeg(jpeg.data(), jpeg.size(), 100'000'000);
  cv::Mat corrected, gray;
  gray_histogram hist{};
  std::size_t objects = 0, crop_bytes = 0;
  for (int i = 0; i < repeat; ++i) {
    if (step == "decode") {
      raw = decode_jpeg(jpeg.data(), jpeg.size(), 100'000'000);
      continue;
    }
    correct_frame_gray(raw, flat, corrected, gray, hist);
    if (step != "frame")
      continue;
    const mask_result m = make_mask(gray, hist, {}, nullptr);
    const labelling l = label_regions(m.mask);
    const auto kept = filter_regions(l.regions, {});
    const auto features = measure_regions(l, kept, corrected);
    objects += features.size();
    for (const auto& r : kept)
      crop_bytes += encode_crop_jpeg(corrected, crop_rect(r.bbox, corrected.size())).size();
  }
  std::printf("%s %s x%d: %dx%d, histogram[245] %lld, objects %zu, crop bytes %zu\n",
              step.c_str(), path.c_str(), repeat, raw.cols, raw.rows,
              static_cast<long long>(hist[245]), objects, crop_bytes);
  return 0;
}
