#include "kernels/decode.hpp"

#include <opencv2/core.hpp>

#include "kernels/exif_orientation.hpp"
#include "kernels/jpeg_bands.hpp"

namespace seg::kernels {

std::optional<jpeg_probe_result> probe_jpeg(const std::uint8_t* data, std::size_t size) {
  try {
    return jpeg_band_reader(data, size, 0).info();
  } catch (const decode_error&) {
    return std::nullopt;
  }
}

cv::Mat decode_jpeg(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels) {
  cv::Mat out;
  decode_jpeg(data, size, max_pixels, out);
  return out;
}

void decode_jpeg(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                 cv::Mat& out) {
  jpeg_band_reader reader(data, size, max_pixels);
  read_upright(reader, out);
}

} // namespace seg::kernels
