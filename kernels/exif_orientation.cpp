#include "kernels/exif_orientation.hpp"

#include <opencv2/core.hpp>

namespace seg::kernels {

namespace {

unsigned read_u16(const std::uint8_t* p, bool little) {
  return little ? unsigned(p[0]) | unsigned(p[1]) << 8 : unsigned(p[0]) << 8 | unsigned(p[1]);
}

std::uint32_t read_u32(const std::uint8_t* p, bool little) {
  return little ? std::uint32_t(read_u16(p, true)) | std::uint32_t(read_u16(p + 2, true)) << 16
                : std::uint32_t(read_u16(p, false)) << 16 | std::uint32_t(read_u16(p + 2, false));
}

} // namespace

int exif_orientation(const std::uint8_t* tiff, std::size_t n) {
  if (tiff == nullptr || n < 8)
    return 1;
  bool little = false;
  if (tiff[0] == 'I' && tiff[1] == 'I')
    little = true;
  else if (!(tiff[0] == 'M' && tiff[1] == 'M'))
    return 1;
  if (read_u16(tiff + 2, little) != 42)
    return 1;
  std::size_t ifd = read_u32(tiff + 4, little);
  if (ifd + 2 > n)
    return 1;
  unsigned count = read_u16(tiff + ifd, little);
  for (unsigned i = 0; i < count; ++i) {
    std::size_t e = ifd + 2 + 12 * std::size_t(i);
    if (e + 12 > n)
      return 1;
    if (read_u16(tiff + e, little) != 0x0112)
      continue;
    if (read_u16(tiff + e + 2, little) != 3) // SHORT
      return 1;
    unsigned v = read_u16(tiff + e + 8, little);
    return v >= 1 && v <= 8 ? int(v) : 1;
  }
  return 1;
}

cv::Mat oriented(cv::Mat img, int orientation) {
  cv::Mat t;
  switch (orientation) {
    case 2: cv::flip(img, img, 1); return img;
    case 3: cv::flip(img, img, -1); return img;
    case 4: cv::flip(img, img, 0); return img;
    case 5: cv::transpose(img, t); return t;
    case 6: cv::transpose(img, t); cv::flip(t, t, 1); return t;
    case 7: cv::transpose(img, t); cv::flip(t, t, -1); return t;
    case 8: cv::transpose(img, t); cv::flip(t, t, 0); return t;
    default: return img;
  }
}

} // namespace seg::kernels
