#include "kernels/jpeg_header.hpp"

namespace seg::kernels {

std::optional<cv::Size> jpeg_size(const std::uint8_t* data, std::size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8)
    return std::nullopt;
  std::size_t pos = 2;
  while (pos + 4 <= size) {
    if (data[pos] != 0xFF)
      return std::nullopt;
    std::uint8_t marker = data[pos + 1];
    if (marker == 0xFF) { // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      pos += 2;
      continue;
    }
    std::size_t len = (std::size_t(data[pos + 2]) << 8) | data[pos + 3];
    if (len < 2 || pos + 2 + len > size)
      return std::nullopt;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the size.
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8
               && marker != 0xCC;
    if (sof) {
      if (len < 7)
        return std::nullopt;
      int height = (data[pos + 5] << 8) | data[pos + 6];
      int width = (data[pos + 7] << 8) | data[pos + 8];
      return cv::Size(width, height);
    }
    if (marker == 0xDA || marker == 0xD9) // scan data or end before any SOF
      return std::nullopt;
    pos += 2 + len;
  }
  return std::nullopt;
}

} // namespace seg::kernels
