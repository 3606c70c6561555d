#pragma once

// Correct while decoding: a frame decoded a band of rows at a time, each
// band flat-field corrected, converted to gray and counted while it is still
// in cache, instead of a second pass over the whole decoded frame. The
// corrected frame, its gray image and histogram are correct_frame_gray's of
// decode_frame's frame, bit for bit.

#include <cstddef>
#include <cstdint>

#include <opencv2/core/mat.hpp>

#include "kernels/correct.hpp"
#include "kernels/frame_bands.hpp"

namespace seg::kernels {

/// Time spent in each half of the work so far (ms), so a worker can still
/// report decode and correct apart.
struct band_timings {
  double decode_ms = 0;
  double correct_ms = 0;
};

/// One frame corrected while it is decoded, in as many calls as the caller
/// likes (a worker does a few bands per message). Move-only.
class banded_correction {
public:
  /// @param reader at its first row; its frame must be unrotated
  ///        (orientation 1: the bands are the frame's rows)
  /// @param band_rows rows decoded and corrected at a time (> 0)
  /// @throws std::invalid_argument for a rotated frame or band_rows <= 0;
  ///         decode_error as frame_band_reader::start (above its pixel limit)
  banded_correction(frame_band_reader reader, int band_rows);

  /// Decodes the next whole bands, at least `rows` rows (fewer at the end),
  /// and corrects each against the same rows of `flat` (correct_region_gray,
  /// the pixel (0,0) rule on the frame's first row) into the same rows of
  /// `out` and `gray`, adding its gray values to histogram(). On the first
  /// call `out` (CV_8UC3) and `gray` (CV_8UC1) get the frame's size (buffers
  /// of that size are reused); later calls must pass the same buffers.
  /// @pre flat has the frame's coded size; out and gray alias neither flat
  ///      nor each other
  /// @return true once every row is done
  /// @throws decode_error as frame_band_reader::read
  bool advance(const cv::Mat& flat, cv::Mat& out, cv::Mat& gray, int rows);

  /// advance() keeping no gray image: each band's gray rows go to a buffer
  /// reused band by band and only the histogram stays (a tiled frame's tiles
  /// make their own gray image from `out`, gray_and_histogram: the same bytes).
  bool advance(const cv::Mat& flat, cv::Mat& out, int rows);

  bool done() const { return reader_.done(); }
  /// Rows decoded and corrected so far.
  int rows_done() const { return reader_.next_row(); }
  cv::Size size() const { return reader_.coded_size(); }
  /// The histogram of the gray rows so far (the frame's once done()).
  const gray_histogram& histogram() const { return hist_; }
  const band_timings& timings() const { return timings_; }

private:
  bool run(const cv::Mat& flat, cv::Mat& out, cv::Mat* gray, int rows);

  frame_band_reader reader_;
  int band_rows_;
  cv::Mat band_; ///< the decoded band, reused: it stays in cache
  cv::Mat gray_band_; ///< its gray rows when no gray image is kept
  gray_histogram hist_{};
  band_timings timings_;
};

/// A whole frame corrected while decoding, in one call (tests, benchmarks):
/// correct_frame_gray(decode_frame(data), flat, out, gray, hist), bit for bit.
/// @throws decode_error, std::invalid_argument (a rotated frame), and
///         cv::Exception when flat's size differs from the frame's
void decode_correct_gray(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                         const cv::Mat& flat, int band_rows, cv::Mat& out, cv::Mat& gray,
                         gray_histogram& hist);

} // namespace seg::kernels
