#include "kernels/frame_bands.hpp"

#include <utility>

#include "kernels/band_source.hpp"
#include "kernels/exif_orientation.hpp"
#include "kernels/jpeg_header.hpp"

namespace seg::kernels {

namespace {

bool is_jpeg(const std::uint8_t* data, std::size_t size) {
  return data != nullptr && size >= 2 && data[0] == 0xFF && data[1] == 0xD8;
}

class jpeg_source final : public band_source {
public:
  explicit jpeg_source(jpeg_band_reader r) : r_(std::move(r)) {}
  cv::Size coded_size() const override { return r_.coded_size(); }
  int orientation() const override { return r_.orientation(); }
  int components() const override { return r_.components(); }
  void start() override { r_.start(); }
  int next_row() const override { return r_.next_row(); }
  bool done() const override { return r_.done(); }
  int read(cv::Mat& band) override { return r_.read(band); }

private:
  jpeg_band_reader r_;
};

std::unique_ptr<band_source> open_source(const std::uint8_t* data, std::size_t size,
                                         std::int64_t max_pixels, std::string name) {
  if (is_png(data, size))
    return open_png_bands(data, size, max_pixels, std::move(name));
  if (is_tiff(data, size))
    return open_tiff_bands(data, size, max_pixels, std::move(name));
  if (data != nullptr && size > 0 && !is_jpeg(data, size)) {
    const std::string reason = "not a JPEG, PNG or TIFF image (unknown signature)";
    throw decode_error(name.empty() ? reason : name + ": " + reason);
  }
  // Empty files and JPEGs: the JPEG reader's own messages.
  return std::make_unique<jpeg_source>(jpeg_band_reader(data, size, max_pixels, std::move(name)));
}

} // namespace

frame_band_reader::frame_band_reader(const std::uint8_t* data, std::size_t size,
                                     std::int64_t max_pixels, std::string name)
    : s_(open_source(data, size, max_pixels, std::move(name))) {}

frame_band_reader::frame_band_reader(jpeg_band_reader jpeg)
    : s_(std::make_unique<jpeg_source>(std::move(jpeg))) {}

frame_band_reader::~frame_band_reader() = default;
frame_band_reader::frame_band_reader(frame_band_reader&&) noexcept = default;
frame_band_reader& frame_band_reader::operator=(frame_band_reader&&) noexcept = default;

cv::Size frame_band_reader::coded_size() const { return s_->coded_size(); }
int frame_band_reader::orientation() const { return s_->orientation(); }
int frame_band_reader::components() const { return s_->components(); }
void frame_band_reader::start() { s_->start(); }
int frame_band_reader::next_row() const { return s_->next_row(); }
bool frame_band_reader::done() const { return s_->done(); }
int frame_band_reader::read(cv::Mat& band) { return s_->read(band); }
bool frame_band_reader::decoded_whole() const { return s_->decoded_whole(); }

jpeg_probe_result frame_band_reader::info() const {
  jpeg_probe_result r;
  r.coded = coded_size();
  r.orientation = orientation();
  r.decoded = r.orientation >= 5 ? cv::Size(r.coded.height, r.coded.width) : r.coded;
  r.components = components();
  r.decoded_whole = decoded_whole();
  return r;
}

std::string tiled_frame_problem(const jpeg_probe_result& info) {
  if (info.orientation != 1)
    return "EXIF orientation " + std::to_string(info.orientation)
           + ": a tiled frame is read in bands of rows and must not be rotated";
  if (info.decoded_whole)
    return "interlaced PNG: a tiled frame is read in bands of rows and must not be interlaced "
           "(its passes span the whole frame)";
  return {};
}

std::optional<jpeg_probe_result> probe_frame(const std::uint8_t* data, std::size_t size,
                                             std::string* why) {
  try {
    return frame_band_reader(data, size, 0).info();
  } catch (const decode_error& e) {
    if (why != nullptr)
      *why = e.what();
    return std::nullopt;
  }
}

bool looks_like_tiff(const std::uint8_t* data, std::size_t size) { return is_tiff(data, size); }

std::optional<cv::Size> frame_size(const std::uint8_t* data, std::size_t size) {
  if (is_png(data, size))
    return png_size(data, size);
  if (is_tiff(data, size)) {
    if (auto info = probe_frame(data, size))
      return info->coded;
    return std::nullopt;
  }
  return jpeg_size(data, size);
}

void decode_frame(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                  cv::Mat& out) {
  if (data == nullptr || size == 0 || is_jpeg(data, size)) {
    decode_jpeg(data, size, max_pixels, out);
    return;
  }
  frame_band_reader reader(data, size, max_pixels);
  read_upright(reader, out);
}

cv::Mat decode_frame(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels) {
  cv::Mat out;
  decode_frame(data, size, max_pixels, out);
  return out;
}

} // namespace seg::kernels
