#pragma once

#include <cstdint>

namespace seg {

/// The per-job segmentation parameters a worker needs (resolved from the
/// settings and the acquisition's metadata by the reader).
struct segment_params {
  double min_esd_px = 20;          ///< size filter threshold, already in pixels
  double pixel_size_um = 0;        ///< µm per pixel for exported units; 0 = pixels
  std::int32_t crop_margin = 10;   ///< px around each bbox
  std::int32_t jpeg_quality = 75;  ///< crop JPEG quality
  bool remove_previous_mask = false;
  std::int64_t max_frame_pixels = 100'000'000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, segment_params& x) {
  return f(x.min_esd_px, x.pixel_size_um, x.crop_margin, x.jpeg_quality,
           x.remove_previous_mask, x.max_frame_pixels);
}

} // namespace seg
