#pragma once

#include <cstddef>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace seg::kernels {

/// Indices into the sorted frame list of the frames the reference's initial
/// flat uses (SPEC-planktoscope §2.1): with fewer than `flat_frames` frames the
/// whole list is offered, otherwise the first `flat_frames`; an even count is
/// then decremented (10 -> 9, 4 -> 3). Returns {0, 1, ..., k-1}; empty iff
/// frame_count == 0.
/// @param frame_count number of frames in the acquisition
/// @param flat_frames the reference's images_number (10)
std::vector<std::size_t> initial_flat_indices(std::size_t frame_count,
                                              std::size_t flat_frames = 10);

/// Indices of the frames the reference uses when it recomputes the flat at the
/// top of frame `next_frame_index` (planktoscope profile only, SPEC §2.1):
/// - frame_count == 10: the whole list, i.e. frames 0..8;
/// - next_frame_index > frame_count - 11: the Python slice
///   list[next-10 : next], where a negative start wraps (start + frame_count,
///   then clamped at 0), so it may hold 0..10 frames;
/// - otherwise list[next : next+10].
/// The slice is then reduced to 9 frames, or clamped to its length (which may
/// be even) when shorter. An empty result means the reference fails the whole
/// acquisition (numpy IndexError on an empty stack).
/// @pre next_frame_index < frame_count
std::vector<std::size_t> recalc_flat_indices(std::size_t next_frame_index,
                                             std::size_t frame_count);

/// The reference's flat-recalculation heuristic (planktoscope profile only).
/// Feed it every frame in order; it tracks the cumulative mean object count.
struct flat_recalc_heuristic {
  double average_objects = 0; ///< mean objects per frame over frames 0..i

  /// Records that frame `frame_index` (0-based, consecutive) produced
  /// `object_count` kept objects. Returns true iff the flat must be recomputed
  /// (with recalc_flat_indices(frame_index + 1, ...)) before the next frame:
  /// average_objects != 0 and object_count > average_objects + 20, checked
  /// before the mean is updated.
  bool after_frame(std::size_t frame_index, std::size_t object_count);
};

/// Per-pixel, per-channel median of N frames as uint8: element int(N/2) of the
/// sorted values, i.e. the upper-middle value for even N (the reference's
/// _manual_median).
/// @param frames N >= 1 frames, all CV_8UC3 of the same size
/// @return CV_8UC3 flat of the frames' size
cv::Mat median_flat(const std::vector<cv::Mat>& frames);

/// Band version of median_flat: fills rows [row_begin, row_end) of `flat` and
/// touches nothing else, so several workers can each compute a band.
/// @param flat preallocated CV_8UC3 of the frames' size
/// @pre 0 <= row_begin <= row_end <= rows
void median_flat_rows(const std::vector<cv::Mat>& frames, int row_begin, int row_end,
                      cv::Mat& flat);

} // namespace seg::kernels
