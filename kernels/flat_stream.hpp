#pragma once

// The flat field of frames too big to keep whole (tiled acquisitions): the
// median of N frames computed band by band, each frame decoded a band of
// rows at a time side by side, so only N bands are ever decoded at once
// instead of N whole frames. Equals median_flat of the decoded frames, bit
// for bit.

#include <vector>

#include <opencv2/core/mat.hpp>

#include "kernels/decode.hpp"
#include "kernels/frame_bands.hpp"

namespace seg::kernels {

/// A frame of a streamed flat failed to decode (corrupt past its headers).
class streamed_frame_error : public decode_error {
public:
  streamed_frame_error(std::size_t frame, const std::string& what)
      : decode_error(what), frame_(frame) {}
  /// Its position among the frames the flat was made with.
  std::size_t frame() const { return frame_; }

private:
  std::size_t frame_;
};

/// One streamed flat, in as many calls as the caller likes (a worker does a
/// few bands per message). Move-only.
class streamed_flat {
public:
  /// @param frames at their first row, unrotated (orientation 1), read in
  ///        bands (not decoded_whole), all of one coded size; 1 to 9 of them
  ///        (median_flat's limit)
  /// @param band_rows rows decoded from each frame at a time (> 0)
  /// @throws std::invalid_argument for no frame, too many, a rotated or
  ///         interlaced one,
  ///         frames of different sizes or band_rows <= 0
  streamed_flat(std::vector<frame_band_reader> frames, int band_rows);

  /// Decodes the next bands, at least `rows` rows (fewer at the end), of
  /// every frame and writes their median into the same rows of `flat`
  /// (CV_8UC3 of the frames' size; allocated on the first call if it is not).
  /// @return true once every row is done
  /// @throws streamed_frame_error naming the frame that failed to decode
  ///         (frame_band_reader::read's decode_error); the flat is then of no use
  bool advance(cv::Mat& flat, int rows);

  bool done() const { return next_row_ >= size_.height; }
  int rows_done() const { return next_row_; }
  cv::Size size() const { return size_; }

private:
  std::vector<frame_band_reader> frames_;
  std::vector<cv::Mat> bands_; ///< one band per frame, reused
  int band_rows_;
  int next_row_ = 0;
  cv::Size size_;
};

} // namespace seg::kernels
