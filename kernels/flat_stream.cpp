#include "kernels/flat_stream.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include <opencv2/core.hpp>

#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"

namespace seg::kernels {

streamed_flat::streamed_flat(std::vector<frame_band_reader> frames, int band_rows)
    : frames_(std::move(frames)), band_rows_(band_rows) {
  if (frames_.empty() || frames_.size() > 9)
    throw std::invalid_argument("streamed flat: " + std::to_string(frames_.size())
                                + " frames (1 to 9 are allowed)");
  if (band_rows_ <= 0)
    throw std::invalid_argument("streamed flat: band_rows must be > 0");
  size_ = frames_.front().coded_size();
  for (auto& f : frames_) {
    if (f.orientation() != 1)
      throw std::invalid_argument("streamed flat: a frame is rotated (EXIF orientation "
                                  + std::to_string(f.orientation()) + ")");
    if (f.decoded_whole())
      throw std::invalid_argument("streamed flat: a frame is decoded whole (interlaced PNG)");
    if (f.coded_size() != size_)
      throw std::invalid_argument("streamed flat: frames of different sizes");
  }
  bands_.resize(frames_.size());
}

bool streamed_flat::advance(cv::Mat& flat, int rows) {
  if (flat.type() != CV_8UC3 || flat.size() != size_)
    flat.create(size_, CV_8UC3);
  int target = std::min(size_.height, next_row_ + std::max(1, rows));
  while (next_row_ < target) {
    int n = std::min(band_rows_, size_.height - next_row_);
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      auto& band = bands_[i];
      if (band.rows != band_rows_ || band.cols != size_.width)
        band.create(band_rows_, size_.width, CV_8UC3);
      cv::Mat view = band.rowRange(0, n);
      int got = 0;
      try {
        got = frames_[i].read(view);
      } catch (const decode_error& e) {
        throw streamed_frame_error(i, e.what());
      }
      if (got != n)
        throw streamed_frame_error(i, "streamed flat: frame " + std::to_string(i) + " gave "
                           + std::to_string(got) + " rows at row " + std::to_string(next_row_)
                           + ", expected " + std::to_string(n));
    }
    std::vector<cv::Mat> views;
    views.reserve(bands_.size());
    for (auto& b : bands_)
      views.push_back(b.rowRange(0, n));
    cv::Mat out = flat.rowRange(next_row_, next_row_ + n);
    median_flat_rows(views, 0, n, out);
    next_row_ += n;
  }
  return done();
}

} // namespace seg::kernels
