// The oracle of tests/cli/segment_recalc.sh: the reference segmenter's
// sequential loop (SPEC-planktoscope §2.1) written out with the kernels, one
// frame after the other, flat recalculation included:
//
//   flat = median of the initial window
//   for i, frame in frames:
//     if recalculate: flat = median of frame i's recalculation window
//     decode, correct, mask, label, size filter (pixels), features
//     recalculate = heuristic.after_frame(i, objects)
//
// Usage: recalc_oracle ACQUISITION_DIR [MIN_ESD_PX]
// Prints, for the test to compare with segflow's TSV and log:
//   recalc next=<j> window=<first>-<last>
//   object <frame stem>_<k> <bx> <by> <width> <height> <area>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "kernels/correct.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"

namespace fs = std::filesystem;
using namespace seg::kernels;

namespace {

bool is_frame(const std::string& name) {
  for (std::string e : {"JPG", "jpg", "JPEG", "jpeg"})
    if (name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return true;
  return false;
}

cv::Mat read(const fs::path& file) {
  cv::Mat m = cv::imread(file.string(), cv::IMREAD_COLOR);
  if (m.empty())
    throw std::runtime_error(file.string() + ": cannot be decoded");
  return m;
}

cv::Mat flat_of(const fs::path& dir, const std::vector<std::string>& frames,
                const std::vector<std::size_t>& window) {
  std::vector<cv::Mat> stack;
  for (auto i : window)
    stack.push_back(read(dir / frames[i]));
  return median_flat(stack);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: recalc_oracle ACQUISITION_DIR [MIN_ESD_PX]\n";
    return 2;
  }
  try {
    fs::path dir = argv[1];
    double min_esd = argc == 3 ? std::stod(argv[2]) : 20; // planktoscope: 20 px
    std::vector<std::string> frames;
    for (auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && is_frame(e.path().filename().string()))
        frames.push_back(e.path().filename().string());
    std::sort(frames.begin(), frames.end());
    if (frames.empty())
      throw std::runtime_error(dir.string() + ": no frames");

    cv::Mat flat = flat_of(dir, frames, initial_flat_indices(frames.size()));
    flat_recalc_heuristic heuristic;
    bool recalculate = false;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (recalculate) {
        auto window = recalc_flat_indices(i, frames.size());
        if (window.empty()) // numpy's median of no frame: the reference fails
          throw std::runtime_error("the recalculation window of frame " + std::to_string(i)
                                   + " is empty: the reference fails the acquisition");
        std::cout << "recalc next=" << i << " window=" << window.front() << "-"
                  << window.back() << "\n";
        flat = flat_of(dir, frames, window);
      }
      cv::Mat corrected = correct_frame(read(dir / frames[i]), flat);
      auto mask = make_mask(corrected, mask_params{}, nullptr);
      auto labelled = label_regions(mask.mask);
      size_filter_params fp;
      fp.min_esd = min_esd;
      auto kept = filter_regions(labelled.regions, fp);
      auto features = measure_regions(labelled, kept, corrected);
      auto stem = frames[i].substr(0, frames[i].rfind('.'));
      for (std::size_t k = 0; k < features.size(); ++k) {
        auto& f = features[k];
        std::cout << "object " << stem << "_" << k << " " << f.bx << " " << f.by << " "
                  << f.width << " " << f.height << " " << kept[k].area << "\n";
      }
      recalculate = heuristic.after_frame(i, features.size());
    }
  } catch (const std::exception& e) {
    std::cerr << "recalc_oracle: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
