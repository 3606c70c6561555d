#include "kernels/mask.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace seg::kernels {

mask_result make_mask(const cv::Mat& corrected, const mask_params& p,
                      cv::Mat* previous_threshold_mask) {
  CV_Assert(corrected.type() == CV_8UC3 && !corrected.empty());
  CV_Assert(p.erode_size >= 1 && p.ellipse_size >= 1);
  CV_Assert(!p.remove_previous_mask || previous_threshold_mask != nullptr);
  mask_result r;
  cv::Mat gray, a, b;
  cv::cvtColor(corrected, gray, cv::COLOR_BGR2GRAY);
  // The 127 is ignored: THRESH_TRIANGLE computes t from the histogram.
  r.threshold = cv::threshold(gray, a, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE);
  if (p.remove_previous_mask) {
    cv::Mat& prev = *previous_threshold_mask;
    if (prev.empty()) {
      prev = a.clone();
    } else {
      CV_Assert(prev.size() == a.size() && prev.type() == CV_8UC1);
      cv::Mat current = a.clone();
      cv::Mat both;
      cv::bitwise_and(a, prev, both);
      cv::subtract(a, both, a);
      prev = current;
    }
  }
  const cv::Mat rect = cv::getStructuringElement(cv::MORPH_RECT, {p.erode_size, p.erode_size});
  const cv::Mat ellipse =
      cv::getStructuringElement(cv::MORPH_ELLIPSE, {p.ellipse_size, p.ellipse_size});
  cv::erode(a, b, rect);
  cv::dilate(b, a, ellipse);
  cv::morphologyEx(a, b, cv::MORPH_CLOSE, ellipse);
  cv::erode(b, r.mask, ellipse);
  return r;
}

} // namespace seg::kernels
