#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
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

/// Which frames the flat field is computed from (SPEC-planktoscope §2.1),
/// with bad frames replaced. Pure bookkeeping: no pixels, no files.
///
/// The window has k slots, k = initial_flat_indices(frame_count,
/// flat_frames).size(), holding frames 0..k-1 at first. When a slot's frame
/// is bad, the slot takes the first frame after the window not tried yet;
/// when none is left the slot is dropped. So the flat is made of the first k
/// good frames; when fewer than k frames are good, of the SPEC §2.1 count of
/// the good frames (all of them, an even count less one). Either way it is
/// the flat of the same acquisition without its bad files.
class flat_window {
public:
  /// @param frame_count frames in the acquisition
  /// @param flat_frames segmentation.flat_frames (the reference's 10)
  flat_window(std::size_t frame_count, std::size_t flat_frames);

  /// A window of the given frames (a recalculation window, SPEC §2.1); a
  /// bad one is replaced by the first frame after the window not tried yet.
  /// @pre frames is not empty, ascending, every frame < frame_count
  flat_window(const std::vector<std::size_t>& frames, std::size_t frame_count);

  /// Number of slots, k.
  std::size_t slots() const;

  /// The frame index slot `slot` holds now.
  std::uint32_t frame(std::size_t slot) const;

  /// The frame in `slot` is bad: returns the frame that takes its place, or
  /// nullopt if every frame has been tried (the slot is dropped). A slot
  /// already accepted or dropped is left as it is (nullopt).
  std::optional<std::uint32_t> replace(std::size_t slot);

  /// The frame in `slot` is good.
  void accept(std::size_t slot);

  /// Every slot is accepted or dropped.
  bool complete() const;

  /// The slots to compute the flat from, in frame order (empty if no frame
  /// is good). @pre complete()
  std::vector<std::size_t> chosen() const;

  /// Frames found bad so far.
  std::size_t bad_frames() const;

private:
  enum class slot_state : std::uint8_t { pending, good, dropped };
  std::vector<std::uint32_t> frames_;
  std::vector<slot_state> states_;
  std::size_t next_ = 0;       ///< first frame not tried yet
  std::size_t frame_count_ = 0;
  std::size_t bad_ = 0;
};

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
