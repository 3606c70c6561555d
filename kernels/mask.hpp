#pragma once

#include <cstdint>

#include <opencv2/core/mat.hpp>

namespace seg::kernels {

/// How make_mask runs its erode/dilate/close steps. Both give the same bytes.
enum class morphology_impl : std::uint8_t {
  bitset, ///< 64 pixels per word, ~10x faster than OpenCV on 0/255 masks
  opencv, ///< cv::erode / cv::dilate / cv::morphologyEx, as the reference calls them
};

/// Parameters of the reference's mask pipeline (SPEC-planktoscope §3.1).
struct mask_params {
  int erode_size = 2;   ///< side of the square kernel of the first erosion, px, >= 1
  int ellipse_size = 8; ///< side of the ellipse kernel of dilate/close/erode, px, >= 1
  /// Subtract the previous frame's raw threshold mask (step 1 of §3.1, §3.2);
  /// the state lives in the caller's per-job `previous_threshold_mask`.
  bool remove_previous_mask = false;
  /// Implementation of steps 2-5; the bitset one reproduces OpenCV's default
  /// anchors and constant borders bit for bit (tested against OpenCV).
  morphology_impl morphology = morphology_impl::bitset;
};

/// Output of make_mask.
struct mask_result {
  cv::Mat mask;         ///< CV_8UC1, 255 = object, 0 = background; frame size
  double threshold = 0; ///< the triangle threshold t on the gray image, 0..255
};

/// The reference's mask (SPEC §3.1): 8-bit BGR2GRAY; triangle threshold t,
/// mask = 255 where gray <= t; optionally remove_previous_mask; then erode
/// (rect erode_size^2), dilate, close and erode (ellipse ellipse_size^2), all
/// with OpenCV's default anchors and borders. Thread-safe: the full-frame
/// scratch buffers it reuses are per thread.
/// @param corrected CV_8UC3 corrected frame
/// @param previous_threshold_mask per-job state for remove_previous_mask
///        (ignored when it is off, must be non-null when it is on): if empty,
///        it receives a copy of this frame's step-0 mask and the mask is left
///        unchanged; otherwise the mask loses the pixels set in it (mask AND
///        NOT prev) and it is replaced by this frame's step-0 mask.
/// @pre a non-empty previous mask has the frame's size
mask_result make_mask(const cv::Mat& corrected, const mask_params& p,
                      cv::Mat* previous_threshold_mask);

} // namespace seg::kernels
