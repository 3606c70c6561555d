// PNG frames read in bands of rows with libpng, with cv::imread's pixels for
// IMREAD_COLOR: the same libpng transforms its decoder asks for (16-bit
// samples stripped to their high byte, alpha dropped, palette and low-depth
// grey expanded, grey replicated, BGR order).

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <png.h>

#include "kernels/band_source.hpp"
#include "kernels/exif_orientation.hpp"

namespace seg::kernels {

namespace {

constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8
         | std::uint32_t(p[3]);
}

// The orientation in the file's eXIf chunk, before or after the image data
// (cv::imread applies it from either); 1 without one. The chunks are walked
// by their lengths, nothing is decoded: the bands must know it up front.
int png_orientation(const std::uint8_t* data, std::size_t size) {
  std::size_t at = sizeof png_signature;
  while (at + 8 <= size) {
    const std::uint32_t length = big_endian_u32(data + at);
    const std::uint8_t* type = data + at + 4;
    if (length > size - at - 8 || std::memcmp(type, "IEND", 4) == 0)
      return 1; // a truncated chunk is the decoder's to report
    if (std::memcmp(type, "eXIf", 4) == 0) {
      const std::uint8_t* exif = data + at + 8;
      std::size_t n = length;
      if (n >= 6 && std::memcmp(exif, "Exif\0\0", 6) == 0) { // a JPEG habit some writers keep
        exif += 6;
        n -= 6;
      }
      return exif_orientation(exif, n);
    }
    at += 12 + std::size_t(length);
  }
  return 1;
}

class png_source final : public failing_source {
public:
  png_source(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
             std::string name)
      : failing_source(std::move(name)), data_(data), size_(size), max_pixels_(max_pixels) {
    h_.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, this, on_error, on_warning);
    if (h_.png != nullptr)
      h_.info = png_create_info_struct(h_.png);
    if (h_.png == nullptr || h_.info == nullptr)
      fail("cannot decode PNG: out of memory");
    png_ = h_.png;
    info_ = h_.info;
    png_set_read_fn(png_, this, on_read);
    if (!guarded([this] {
          png_read_info(png_, info_);
          png_get_IHDR(png_, info_, &width_, &height_, &bit_depth_, &color_type_, &interlace_,
                       nullptr, nullptr);
        }))
      fail_libpng();
    components_ = png_get_channels(png_, info_);
    orientation_ = png_orientation(data, size);
  }

  png_source(const png_source&) = delete;
  png_source& operator=(const png_source&) = delete;

  cv::Size coded_size() const override { return {int(width_), int(height_)}; }
  int orientation() const override { return orientation_; }
  bool decoded_whole() const override { return interlace_ != PNG_INTERLACE_NONE; }
  int components() const override { return components_; }
  int next_row() const override { return row_; }
  bool done() const override { return finished_; }

  void start() override {
    throw_if_failed();
    if (started_)
      return;
    check_limit(coded_size(), max_pixels_);
    if (!guarded([this] {
          if (bit_depth_ == 16)
            png_set_strip_16(png_);
          png_set_strip_alpha(png_);
          if (color_type_ == PNG_COLOR_TYPE_PALETTE)
            png_set_palette_to_rgb(png_);
          if ((color_type_ & PNG_COLOR_MASK_COLOR) == 0 && bit_depth_ < 8)
            png_set_expand_gray_1_2_4_to_8(png_);
          if ((color_type_ & PNG_COLOR_MASK_COLOR) != 0)
            png_set_bgr(png_);
          else
            png_set_gray_to_rgb(png_);
          png_set_interlace_handling(png_);
          png_read_update_info(png_, info_);
        }))
      fail_libpng();
    if (png_get_rowbytes(png_, info_) != std::size_t(width_) * 3)
      fail("cannot decode PNG: unexpected row layout after conversion to 8-bit BGR");
    started_ = true;
  }

  int read(cv::Mat& band) override {
    start();
    if (finished_)
      return 0;
    CV_Assert(band.type() == CV_8UC3 && band.cols == int(width_));
    const int want = std::min(band.rows, int(height_) - row_);
    if (interlace_ != PNG_INTERLACE_NONE) {
      // Adam7 passes each cover the whole image: the frame is decoded whole
      // once, then handed out a band at a time.
      if (whole_.empty())
        read_whole();
      for (int i = 0; i < want; ++i)
        std::memcpy(band.ptr(i), whole_.data() + std::size_t(row_ + i) * width_ * 3,
                    std::size_t(width_) * 3);
    } else if (!guarded([&] {
                 for (int i = 0; i < want; ++i)
                   png_read_row(png_, band.ptr(i), nullptr);
               })) {
      fail_libpng();
    }
    row_ += want;
    if (row_ == int(height_)) {
      // Reads to IEND: a truncated or corrupt tail fails the frame.
      if (!guarded([this] { png_read_end(png_, nullptr); }))
        fail_libpng();
      finished_ = true;
      whole_ = {};
    }
    return want;
  }

private:
  static png_source* self(png_structp png) {
    return static_cast<png_source*>(png_get_error_ptr(png));
  }
  static void on_error(png_structp png, png_const_charp message) {
    auto* s = self(png);
    std::snprintf(s->message_, sizeof s->message_, "%s", message);
    png_longjmp(png, 1);
  }
  // Warnings concern ancillary data (a bad CRC in a text chunk, an unknown
  // colour profile); the pixels are intact.
  static void on_warning(png_structp, png_const_charp) {}
  static void on_read(png_structp png, png_bytep out, std::size_t n) {
    auto* s = static_cast<png_source*>(png_get_io_ptr(png));
    if (n > s->size_ - s->pos_)
      png_error(png, "truncated file (unexpected end of data)");
    std::memcpy(out, s->data_ + s->pos_, n);
    s->pos_ += n;
  }

  void read_whole() {
    whole_.resize(std::size_t(width_) * height_ * 3);
    rows_.resize(height_);
    for (png_uint_32 y = 0; y < height_; ++y)
      rows_[y] = whole_.data() + std::size_t(y) * width_ * 3;
    if (!guarded([this] { png_read_image(png_, rows_.data()); }))
      fail_libpng();
  }

  // Runs f catching libpng's errors (a longjmp back here): false when it
  // failed. f's frame holds no object with a destructor.
  template <class F>
  bool guarded(F&& f) {
    if (setjmp(png_jmpbuf(png_)) != 0)
      return false;
    f();
    return true;
  }
  [[noreturn]] void fail_libpng() {
    fail(std::string("truncated or corrupt PNG: ") + message_);
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::int64_t max_pixels_;
  // Destroyed even when the constructor fails.
  struct handles {
    png_structp png = nullptr;
    png_infop info = nullptr;
    handles() = default;
    handles(const handles&) = delete;
    handles& operator=(const handles&) = delete;
    ~handles() {
      if (png != nullptr)
        png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
    }
  } h_;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
  png_uint_32 width_ = 0;
  png_uint_32 height_ = 0;
  int bit_depth_ = 0;
  int color_type_ = 0;
  int interlace_ = 0;
  int components_ = 0;
  int orientation_ = 1;
  int row_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::vector<std::uint8_t> whole_; ///< an interlaced frame, decoded whole
  std::vector<png_bytep> rows_;
  char message_[256] = {};
};

} // namespace

bool is_png(const std::uint8_t* data, std::size_t size) {
  return data != nullptr && size >= sizeof png_signature
         && std::memcmp(data, png_signature, sizeof png_signature) == 0;
}

std::optional<cv::Size> png_size(const std::uint8_t* data, std::size_t size) {
  // The signature, then IHDR's length, type, width and height.
  if (!is_png(data, size) || size < 24 || std::memcmp(data + 12, "IHDR", 4) != 0)
    return std::nullopt;
  auto w = big_endian_u32(data + 16);
  auto h = big_endian_u32(data + 20);
  if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu)
    return std::nullopt;
  return cv::Size(int(w), int(h));
}

std::unique_ptr<band_source> open_png_bands(const std::uint8_t* data, std::size_t size,
                                            std::int64_t max_pixels, std::string name) {
  return std::make_unique<png_source>(data, size, max_pixels, std::move(name));
}

} // namespace seg::kernels
