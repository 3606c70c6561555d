#pragma once

// JPEG encoding with libjpeg-turbo, byte for byte what OpenCV 4.6's
// cv::imencode(".jpg", image, {IMWRITE_JPEG_QUALITY, quality}) writes
// (jpeg_set_defaults, baseline quality tables, 4:2:0, no optimised Huffman
// tables, no restart markers). segflow's crops and thumbnails keep the
// reference's bytes without OpenCV's imgcodecs, whose dependencies (GDAL and
// over a hundred more libraries) cost every segflow process ~100 ms to load.

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace seg::kernels {

/// libjpeg refused to encode (e.g. an image wider than 65,500 px).
class encode_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Encodes `image` (CV_8UC3 BGR or CV_8UC1 grey, any step: it may be a view
/// into a larger image) into `out`, replacing its content.
/// @param quality 0..100, clamped as OpenCV clamps it
/// @throws encode_error with libjpeg's reason; std::invalid_argument for
///         another type or an empty image
void encode_jpeg(const cv::Mat& image, int quality, std::vector<std::uint8_t>& out);

/// The same, returning the bytes.
std::vector<std::uint8_t> encode_jpeg(const cv::Mat& image, int quality);

} // namespace seg::kernels
