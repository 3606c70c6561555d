#pragma once

#include <cstdint>

#include <opencv2/core/mat.hpp>

#include "kernels/correct.hpp"

namespace seg::kernels {

/// How make_mask runs steps 0 and 2-5. Both give the same threshold and bytes
/// (tested against each other on random masks and on every reference frame).
enum class morphology_impl : std::uint8_t {
  /// Step 0 packed straight from the gray image into bits, then
  /// erode/dilate/close/erode on 64 pixels per word: a quarter of OpenCV's
  /// time on 4056x3040. With remove_previous_mask, step 0 is a byte mask.
  bitset,
  /// cv::erode, cv::dilate, cv::morphologyEx, exactly as the reference calls
  /// them (step 0 is the same in both).
  opencv,
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
  double threshold = 0; ///< the triangle threshold t on the gray image (integer, 0..255)
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

/// The raw threshold mask of step 0 alone (8-bit BGR2GRAY, triangle
/// threshold, 255 where gray <= t): the state remove_previous_mask keeps. So a
/// worker can rebuild the state for frame k from frame k-1 without the rest of
/// make_mask: passing threshold_mask(corrected k-1) as the previous mask gives
/// frame k the same mask as a sequential run.
/// @param corrected CV_8UC3 corrected frame
/// @return CV_8UC1 of the frame's size
cv::Mat threshold_mask(const cv::Mat& corrected);

/// make_mask from the corrected frame's gray image and its histogram, as
/// correct_frame_gray gives them (the frame itself is not read again).
mask_result make_mask(const cv::Mat& gray, const gray_histogram& hist, const mask_params& p,
                      cv::Mat* previous_threshold_mask);

/// make_mask with the threshold given instead of computed: a tile's mask from
/// the whole frame's threshold. Over a tile with a halo of
/// morphology_reach(p) px, it equals the frame's mask on the tile's core.
mask_result make_mask_at(const cv::Mat& gray, int threshold, const mask_params& p,
                         cv::Mat* previous_threshold_mask);

/// How far (px, in any direction) make_mask's steps 2-5 carry a pixel's
/// value: the sum of the kernels' largest anchor offsets.
int morphology_reach(const mask_params& p);

/// threshold_mask from the gray image and its histogram.
cv::Mat threshold_mask(const cv::Mat& gray, const gray_histogram& hist);

/// cv::threshold(THRESH_TRIANGLE)'s threshold for an 8-bit image with this
/// histogram (OpenCV 4.6's rule, its mirroring for right-hand tails included).
int triangle_threshold(const gray_histogram& hist);

} // namespace seg::kernels
