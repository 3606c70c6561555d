#include "actors/io/report/thumbnail.hpp"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/report/html_text.hpp"
#include "kernels/decode.hpp"
#include "kernels/jpeg_encode.hpp"

namespace seg::io::report {

namespace {

cv::Mat shrink_to(const cv::Mat& image, int width, int height) {
  double scale = std::min({1.0, double(width) / image.cols, double(height) / image.rows});
  if (scale >= 1.0)
    return image;
  cv::Mat small;
  cv::resize(image, small,
             cv::Size(std::max(1, int(image.cols * scale + 0.5)),
                      std::max(1, int(image.rows * scale + 0.5))),
             0, 0, cv::INTER_AREA);
  return small;
}

std::vector<std::uint8_t> encode(const cv::Mat& image) {
  return kernels::encode_jpeg(image, 85);
}

} // namespace

std::vector<std::uint8_t> jpeg_thumbnail(const std::vector<std::uint8_t>& jpeg, int box) {
  if (jpeg.empty())
    return {};
  cv::Mat image;
  try {
    // Strict: a damaged crop gets no thumbnail rather than a grey-padded one.
    image = kernels::decode_jpeg(jpeg.data(), jpeg.size(), kernels::any_jpeg_pixels);
  } catch (const std::exception&) {
    return {};
  }
  if (image.empty())
    return {};
  if (image.cols <= box && image.rows <= box && jpeg.size() <= 16 * 1024)
    return jpeg;
  return encode(shrink_to(image, box, box));
}

std::string jpeg_data_uri(const std::vector<std::uint8_t>& jpeg) {
  return "data:image/jpeg;base64," + base64(jpeg);
}

std::filesystem::path flat_thumbnail_file(const std::filesystem::path& objects_dir) {
  return objects_dir / ".segflow" / "flat.jpg";
}

void write_flat_thumbnail(const cv::Mat& flat, const std::filesystem::path& file) {
  auto bytes = encode(shrink_to(flat, 480, 480));
  write_file_atomic(file, bytes);
}

} // namespace seg::io::report
