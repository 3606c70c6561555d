#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "kernels/features.hpp"

namespace seg::kernels {

/// A horizontal run of foreground pixels: row y, columns [x_begin, x_end).
struct pixel_run {
  int y = 0;
  int x_begin = 0;
  int x_end = 0;
};

/// One connected region of a mask before filtering.
struct region {
  int label = 0;               ///< 1-based label in raster order of first pixel
  cv::Rect bbox;               ///< tight bounding box in frame coordinates
  std::int64_t area = 0;       ///< pixel count (holes excluded)
  std::uint32_t run_begin = 0; ///< the region's runs are labelling::runs[run_begin, run_end)
  std::uint32_t run_end = 0;
};

/// Result of labelling a mask, run-length encoded: no full-frame label image
/// is built (render one with label_image when needed).
struct labelling {
  cv::Size size;               ///< the mask's size
  std::vector<pixel_run> runs; ///< grouped by region in label order, raster order within
  std::vector<region> regions; ///< regions[i].label == i + 1
};

/// 8-connected labelling numbered in raster order of each region's first
/// pixel, like skimage.measure.label (SPEC §3.3), with area and bbox.
/// @param mask CV_8UC1, non-zero = foreground.
labelling label_regions(const cv::Mat& mask);

/// The CV_32SC1 label image of a labelling (0 = background, 1..n regions), as
/// skimage.measure.label returns it.
cv::Mat label_image(const labelling& labelled);

/// The region's own tight mask, skimage's `regionprops(...).image`: CV_8UC1 of
/// bbox size, 255 on the region's pixels, 0 elsewhere (holes and other
/// regions' pixels inside the bbox included).
/// @pre r comes from `labelled` (directly or via filter_regions)
cv::Mat region_mask(const labelling& labelled, const region& r);

/// Size filter parameters (SPEC §3.4).
struct size_filter_params {
  double min_esd = 20;      ///< minimum equivalent diameter, in the unit below
  double pixel_size_um = 0; ///< micrometres per pixel; 0 = compare in pixels
};

/// Keeps regions whose equivalent diameter sqrt(4*area/pi) (holes excluded)
/// is >= min_esd (pixels), or >= min_esd / pixel_size_um when the pixel size
/// is set. Order is preserved.
std::vector<region> filter_regions(const std::vector<region>& regions,
                                   const size_filter_params& params);

/// The crop rectangle: bbox padded by `margin` px on each side, clamped to
/// the frame (SPEC §3.6).
cv::Rect crop_rect(const cv::Rect& bbox, const cv::Size& frame, int margin = 10);

/// Measures every kept region on the corrected frame: renders the region's
/// own tight mask (region_mask) and calls measure_region on it and on the
/// corrected crop over the bbox. One result per kept region, same order.
/// @param corrected CV_8UC3, the labelled mask's size
std::vector<object_features> measure_regions(const labelling& labelled,
                                             const std::vector<region>& kept,
                                             const cv::Mat& corrected);

/// Encodes a crop of the corrected BGR image as an RGB JPEG (quality as PIL's
/// default 75, 4:2:0), the reference's crop files.
/// @param rect non-empty, inside the image
std::vector<std::uint8_t> encode_crop_jpeg(const cv::Mat& corrected, const cv::Rect& rect,
                                           int quality = 75);

} // namespace seg::kernels
