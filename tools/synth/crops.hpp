#pragma once

// Real object crops (flat-field corrected, background ~245 grey) pasted
// multiplicatively instead of synthetic particles.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "tools/synth/particles.hpp"

namespace seg::detail {

struct crop_item {
  std::string name;
  cv::Mat3f ratio; // crop / 245: a transmission map, ~1 in the margin
  cv::Mat1b mask;  // object pixels: grey < 0.9 × 245
};

using crop_pool = std::vector<crop_item>;

// The *.jpg / *.jpeg files of `dir`, sorted.
std::vector<std::filesystem::path> list_jpegs(const std::filesystem::path& dir);

// The usable crops of `dir` for w×h frames (clean margin, not too large).
std::shared_ptr<const crop_pool> load_crops(const std::filesystem::path& dir, int w, int h);

// Crop `c` flipped (0 none, 1 h, 2 v, 3 hv) with its top-left at (x, y).
patch render_crop(const crop_item& c, int flip, int x, int y, int w, int h);

} // namespace seg::detail
