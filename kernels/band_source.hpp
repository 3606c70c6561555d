#pragma once

// What frame_band_reader dispatches to: one decoder per file format, each
// reading its frame a band of rows at a time with jpeg_band_reader's rules
// (errors "NAME: reason", sticky; the pixel limit checked before any pixel
// memory). Internal to kernels: the format libraries' headers stay in each
// format's .cpp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <opencv2/core/mat.hpp>

#include "kernels/decode.hpp"

namespace seg::kernels {

class band_source {
public:
  virtual ~band_source() = default;
  virtual cv::Size coded_size() const = 0;
  virtual int orientation() const = 0;
  virtual int components() const = 0;
  virtual void start() = 0;
  virtual int next_row() const = 0;
  virtual bool done() const = 0;
  virtual int read(cv::Mat& band) = 0;
  /// True when the first band decodes the whole frame (an interlaced PNG).
  virtual bool decoded_whole() const { return false; }
};

/// The error bookkeeping PNG and TIFF decoders share with the JPEG reader:
/// what() is "NAME: reason", and once failed every call fails the same way.
class failing_source : public band_source {
protected:
  explicit failing_source(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const std::string& reason) {
    failure_ = name_.empty() ? reason : name_ + ": " + reason;
    throw decode_error(failure_);
  }
  void throw_if_failed() const {
    if (!failure_.empty())
      throw decode_error(failure_);
  }
  /// Fails a frame above the pixel limit (called before pixel memory exists).
  void check_limit(cv::Size size, std::int64_t max_pixels) {
    if (pixels(size) > max_pixels)
      fail(std::to_string(size.width) + "x" + std::to_string(size.height)
           + " exceeds the limit of " + std::to_string(max_pixels) + " pixels");
  }

private:
  std::string name_;
  std::string failure_;
};

/// True when the bytes start with the PNG signature / a TIFF header (classic
/// or BigTIFF, either byte order).
bool is_png(const std::uint8_t* data, std::size_t size);
bool is_tiff(const std::uint8_t* data, std::size_t size);

/// A PNG's size from its IHDR chunk (the first one), nothing decoded.
std::optional<cv::Size> png_size(const std::uint8_t* data, std::size_t size);

/// Read the headers; throw decode_error ("NAME: reason") when they are bad or
/// describe a kind of image the decoder refuses.
std::unique_ptr<band_source> open_png_bands(const std::uint8_t* data, std::size_t size,
                                            std::int64_t max_pixels, std::string name);
std::unique_ptr<band_source> open_tiff_bands(const std::uint8_t* data, std::size_t size,
                                             std::int64_t max_pixels, std::string name);

} // namespace seg::kernels
