#include "kernels/correct_bands.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

#include <opencv2/core.hpp>

namespace seg::kernels {

namespace {

using clock_type = std::chrono::steady_clock;

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace

banded_correction::banded_correction(frame_band_reader reader, int band_rows)
    : reader_(std::move(reader)), band_rows_(band_rows) {
  if (band_rows_ <= 0)
    throw std::invalid_argument("banded correction: band_rows must be positive");
  if (reader_.orientation() != 1)
    throw std::invalid_argument("banded correction: the frame is rotated (EXIF orientation "
                                + std::to_string(reader_.orientation()) + ")");
  reader_.start(); // refuses a frame above the pixel limit before out is allocated
}

bool banded_correction::advance(const cv::Mat& flat, cv::Mat& out, int rows) {
  return run(flat, out, nullptr, rows);
}

bool banded_correction::advance(const cv::Mat& flat, cv::Mat& out, cv::Mat& gray, int rows) {
  return run(flat, out, &gray, rows);
}

bool banded_correction::run(const cv::Mat& flat, cv::Mat& out, cv::Mat* gray_out, int rows) {
  const cv::Size frame = reader_.coded_size();
  CV_Assert(flat.type() == CV_8UC3 && flat.size() == frame);
  if (gray_out == nullptr)
    gray_band_.create(band_rows_, frame.width, CV_8UC1);
  cv::Mat& gray = gray_out != nullptr ? *gray_out : gray_band_;
  if (reader_.next_row() == 0) {
    out.create(frame, CV_8UC3);
    if (gray_out != nullptr)
      gray.create(frame, CV_8UC1);
    hist_.fill(0);
  }
  CV_Assert(out.size() == frame && (gray_out == nullptr || gray.size() == frame));
  CV_Assert(out.data != flat.data && gray.data != flat.data && gray.data != out.data);
  const int stop_at = reader_.next_row() + rows;
  gray_histogram band_hist;
  // Clock reads per band (a few hundred a frame) cost nothing next to a band.
  auto t = clock_type::now();
  return decode_bands(reader_, band_rows_, band_, [&](int first, const cv::Mat& decoded) {
    auto decoded_at = clock_type::now();
    timings_.decode_ms += ms_between(t, decoded_at);
    const cv::Range r(first, first + decoded.rows);
    cv::Mat out_rows = out.rowRange(r);
    cv::Mat gray_rows = gray_out != nullptr ? gray.rowRange(r) : gray.rowRange(0, decoded.rows);
    correct_region_gray(decoded, flat.rowRange(r), cv::Point(0, first), out_rows, gray_rows,
                        band_hist);
    for (std::size_t v = 0; v < hist_.size(); ++v)
      hist_[v] += band_hist[v];
    t = clock_type::now();
    timings_.correct_ms += ms_between(decoded_at, t);
    return r.end < stop_at;
  });
}

void decode_correct_gray(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                         const cv::Mat& flat, int band_rows, cv::Mat& out, cv::Mat& gray,
                         gray_histogram& hist) {
  banded_correction bands(frame_band_reader(data, size, max_pixels), band_rows);
  while (!bands.advance(flat, out, gray, band_rows)) {
  }
  hist = bands.histogram();
}

} // namespace seg::kernels
