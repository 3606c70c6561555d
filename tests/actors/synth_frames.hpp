#pragma once

// Real frames for the actor tests: a small synthetic acquisition written to
// a temporary data root, its flat field, and what the kernels make of a
// frame when called directly (the oracle a worker's result is compared with).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>

#include "actors/feature_vector.hpp"
#include "kernels/correct.hpp"
#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"
#include "messages/frame_result.hpp"
#include "messages/segment_params.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/synth/synth.hpp"

namespace seg::test {

inline std::vector<std::uint8_t> file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A synthetic acquisition: `frames` frames of 400×300 px with about
/// `objects` particles each, under a temporary data root.
struct synth_acquisition {
  temp_dir root{"segflow-actor-test"};
  synth_result acq;

  explicit synth_acquisition(int frames = 4, int objects = 6, std::uint64_t seed = 7) {
    synth_options opts;
    opts.out = root.path;
    opts.frames = frames;
    opts.width = 400;
    opts.height = 300;
    opts.objects = objects;
    opts.seed = seed;
    REQUIRE(validate(opts).empty());
    acq = generate_acquisition(opts);
    REQUIRE(acq.frames.size() == std::size_t(frames));
  }

  std::string dir() const {
    return acq.acquisition_dir.string();
  }

  std::string name(std::size_t i) const {
    return acq.frames.at(i).filename().string();
  }

  std::vector<std::uint8_t> bytes(std::size_t i) const {
    return file_bytes(acq.frames.at(i));
  }

  /// The median flat field of all frames.
  cv::Mat flat() const {
    std::vector<cv::Mat> decoded;
    for (std::size_t i = 0; i < acq.frames.size(); ++i) {
      auto b = bytes(i);
      decoded.push_back(kernels::decode_jpeg(b.data(), b.size(), 100'000'000));
    }
    return kernels::median_flat(decoded);
  }
};

/// Parameters that keep most particles of a 400×300 synthetic frame.
inline segment_params small_frame_params() {
  segment_params p;
  p.min_esd_px = 8;
  return p;
}

/// The objects of one frame, segmented by calling the kernels directly in
/// the worker's order (no previous mask).
inline std::vector<object_record> segment_directly(const std::vector<std::uint8_t>& bytes,
                                                   const cv::Mat& flat,
                                                   const segment_params& p) {
  cv::Mat frame = kernels::decode_jpeg(bytes.data(), bytes.size(), p.max_frame_pixels);
  cv::Mat corrected;
  cv::Mat gray;
  kernels::gray_histogram hist{};
  kernels::correct_frame_gray(frame, flat, corrected, gray, hist);
  auto mask = kernels::make_mask(gray, hist, kernels::mask_params{}, nullptr);
  auto labelled = kernels::label_regions(mask.mask);
  kernels::size_filter_params fp;
  fp.min_esd = p.min_esd_px;
  auto kept = kernels::filter_regions(labelled.regions, fp);
  auto features = kernels::measure_regions(labelled, kept, corrected);
  std::vector<object_record> out;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    object_record rec;
    rec.index = std::uint32_t(i);
    rec.features = to_vector(features[i]);
    rec.crop_jpeg = kernels::encode_crop_jpeg(
      corrected, kernels::crop_rect(kept[i].bbox, corrected.size(), p.crop_margin),
      p.jpeg_quality);
    out.push_back(std::move(rec));
  }
  return out;
}

} // namespace seg::test
