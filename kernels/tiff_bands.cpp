// TIFF frames read in bands of rows with libtiff, with cv::imread's pixels
// for IMREAD_COLOR. OpenCV reads 8-bit output through libtiff's RGBA
// interface; 8-bit grey and RGB strips (the common scanner output, any
// codec) are read here a scanline at a time instead, which gives the same
// values without holding a whole strip. Every other kind TIFFRGBAImage
// reads (16-bit, palette, min-is-white, YCbCr, CMYK, separate planes,
// tiled organisation, unassociated alpha, which it premultiplies) goes
// through that interface a strip or a row of tiles at a time.

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include <tiffio.h>

#include "kernels/band_source.hpp"

namespace seg::kernels {

namespace {

// The frame's bytes as a libtiff file: read-only, mapped (strips are
// decoded straight from them).
struct memory_file {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
};

memory_file& file_of(thandle_t h) { return *static_cast<memory_file*>(h); }

tmsize_t read_proc(thandle_t h, void* out, tmsize_t n) {
  auto& f = file_of(h);
  auto count = std::min<std::size_t>(std::size_t(n), f.size - std::min(f.pos, f.size));
  std::memcpy(out, f.data + f.pos, count);
  f.pos += count;
  return tmsize_t(count);
}
tmsize_t write_proc(thandle_t, void*, tmsize_t) { return -1; }
toff_t seek_proc(thandle_t h, toff_t off, int whence) {
  auto& f = file_of(h);
  std::uint64_t base = whence == SEEK_CUR ? f.pos : whence == SEEK_END ? f.size : 0;
  f.pos = std::size_t(base + off);
  return toff_t(f.pos);
}
int close_proc(thandle_t) { return 0; }
toff_t size_proc(thandle_t h) { return toff_t(file_of(h).size); }
int map_proc(thandle_t h, void** base, toff_t* size) {
  auto& f = file_of(h);
  *base = const_cast<std::uint8_t*>(f.data); // libtiff only reads a read-only mapping
  *size = toff_t(f.size);
  return 1;
}
void unmap_proc(thandle_t, void*, toff_t) {}

class tiff_source final : public failing_source {
public:
  tiff_source(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
              std::string name)
      : failing_source(std::move(name)), file_{data, size}, max_pixels_(max_pixels) {
    TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
    if (opts == nullptr)
      fail("cannot decode TIFF: out of memory");
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, this);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, this);
    tif_.t = TIFFClientOpenExt("frame", "r", &file_, read_proc, write_proc, seek_proc,
                               close_proc, size_proc, map_proc, unmap_proc, opts);
    TIFFOpenOptionsFree(opts);
    if (tif_.t == nullptr || !message_.empty())
      fail_libtiff();
    read_layout();
  }

  cv::Size coded_size() const override { return {int(width_), int(height_)}; }
  int orientation() const override { return 1; }
  int components() const override { return int(samples_); }
  int next_row() const override { return row_; }
  bool done() const override { return row_ == int(height_) && started_; }

  void start() override {
    throw_if_failed();
    if (started_)
      return;
    check_limit(coded_size(), max_pixels_);
    if (scanlines_) {
      line_.resize(std::size_t(TIFFScanlineSize(tif_.t)));
    } else {
      char emsg[1024] = {};
      if (!TIFFRGBAImageBegin(&rgba_.img, tif_.t, 1, emsg))
        fail(std::string("cannot decode TIFF: ") + emsg);
      rgba_.begun = true;
      rgba_.img.req_orientation = ORIENTATION_TOPLEFT;
    }
    check_libtiff();
    started_ = true;
  }

  int read(cv::Mat& band) override {
    start();
    CV_Assert(band.type() == CV_8UC3 && band.cols == int(width_));
    const int want = std::min(band.rows, int(height_) - row_);
    for (int i = 0; i < want; ++i) {
      if (scanlines_)
        read_scanline(row_, band.ptr<std::uint8_t>(i));
      else
        copy_rgba_row(row_, band.ptr<std::uint8_t>(i));
      ++row_;
    }
    return want;
  }

private:
  // Refuses what cv::imread would not read as this frame, or would read
  // differently from what segmenting it means: a rotated frame, non-integer
  // samples, several pages.
  void read_layout() {
    // First: looking at the other pages re-reads the first one's directory,
    // which frees what TIFFGetField returned for it (the extra samples).
    if (int pages = pages_beyond_thumbnails(); pages > 1)
      fail("multi-page TIFF (" + std::to_string(pages)
           + " pages) is not supported: a frame is one page");
    TIFF* t = tif_.t;
    std::uint16_t bits = 1, photometric = 0, planar = PLANARCONFIG_CONTIG,
                  format = SAMPLEFORMAT_UINT, orientation = ORIENTATION_TOPLEFT;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width_);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height_);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &samples_);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(t, TIFFTAG_ORIENTATION, &orientation);
    bool has_photometric = TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric) == 1;
    std::uint16_t extras = 0;
    std::uint16_t* extra_kinds = nullptr;
    TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &extras, &extra_kinds);
    check_libtiff();
    if (width_ == 0 || height_ == 0)
      fail("cannot decode TIFF: no image size");
    if (width_ > std::uint32_t(INT32_MAX) || height_ > std::uint32_t(INT32_MAX))
      fail("cannot decode TIFF: image too large");
    if (orientation != ORIENTATION_TOPLEFT)
      fail("TIFF orientation " + std::to_string(orientation)
           + " is not supported (only 1, rows top to bottom, columns left to right)");
    if (format != SAMPLEFORMAT_UINT && format != SAMPLEFORMAT_VOID)
      fail(std::string("TIFF with ")
           + (format == SAMPLEFORMAT_IEEEFP ? "floating-point" : "signed or complex")
           + " samples is not supported (unsigned integer samples only)");
    const int colours = int(samples_) - int(extras);
    const bool unassociated = extras > 0 && extra_kinds != nullptr
                              && extra_kinds[0] == EXTRASAMPLE_UNASSALPHA;
    scanlines_ = has_photometric && !TIFFIsTiled(t) && bits == 8
                 && planar == PLANARCONFIG_CONTIG
                 && ((photometric == PHOTOMETRIC_MINISBLACK && colours == 1)
                     || (photometric == PHOTOMETRIC_RGB && colours == 3 && !unassociated));
    grey_ = photometric == PHOTOMETRIC_MINISBLACK;
    if (!scanlines_) {
      char emsg[1024] = {};
      if (!TIFFRGBAImageOK(t, emsg))
        fail(std::string("TIFF kind not supported: ") + emsg);
      std::uint32_t unit = 0;
      if (TIFFIsTiled(t))
        TIFFGetField(t, TIFFTAG_TILELENGTH, &unit);
      else
        TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &unit);
      unit_rows_ = int(std::clamp<std::uint32_t>(unit, 1, height_));
    }
    check_libtiff();
  }

  // Full-resolution pages (reduced-resolution ones are previews).
  int pages_beyond_thumbnails() {
    int pages = 1;
    if (TIFFLastDirectory(tif_.t))
      return pages;
    for (tdir_t d = 1; TIFFSetDirectory(tif_.t, d); ++d) {
      std::uint32_t kind = 0;
      TIFFGetFieldDefaulted(tif_.t, TIFFTAG_SUBFILETYPE, &kind);
      if ((kind & FILETYPE_REDUCEDIMAGE) == 0)
        ++pages;
    }
    message_.clear(); // the failed TIFFSetDirectory past the last page
    if (!TIFFSetDirectory(tif_.t, 0))
      fail_libtiff();
    return pages;
  }

  void read_scanline(int row, std::uint8_t* bgr) {
    if (TIFFReadScanline(tif_.t, line_.data(), std::uint32_t(row), 0) < 0 || !message_.empty())
      fail_libtiff();
    const std::uint8_t* p = line_.data();
    const std::size_t step = samples_;
    if (grey_) {
      for (std::uint32_t x = 0; x < width_; ++x, p += step, bgr += 3)
        bgr[0] = bgr[1] = bgr[2] = p[0];
    } else {
      for (std::uint32_t x = 0; x < width_; ++x, p += step, bgr += 3) {
        bgr[0] = p[2];
        bgr[1] = p[1];
        bgr[2] = p[0];
      }
    }
  }

  // Rows come from TIFFRGBAImageGet one strip (or row of tiles) at a time,
  // ABGR-packed as TIFFReadRGBAStrip gives them to OpenCV.
  void copy_rgba_row(int row, std::uint8_t* bgr) {
    if (row < unit_first_ || row >= unit_first_ + unit_count_) {
      unit_first_ = row - row % unit_rows_;
      unit_count_ = std::min(unit_rows_, int(height_) - unit_first_);
      raster_.resize(std::size_t(width_) * std::size_t(unit_rows_));
      rgba_.img.row_offset = unit_first_;
      rgba_.img.col_offset = 0;
      if (!TIFFRGBAImageGet(&rgba_.img, raster_.data(), width_, std::uint32_t(unit_count_))
          || !message_.empty())
        fail_libtiff();
    }
    const std::uint32_t* p = raster_.data() + std::size_t(row - unit_first_) * width_;
    for (std::uint32_t x = 0; x < width_; ++x, bgr += 3) {
      bgr[0] = std::uint8_t(TIFFGetB(p[x]));
      bgr[1] = std::uint8_t(TIFFGetG(p[x]));
      bgr[2] = std::uint8_t(TIFFGetR(p[x]));
    }
  }

  static int on_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
    auto* s = static_cast<tiff_source*>(user);
    if (s->message_.empty()) { // the first error is the cause
      char text[512];
      std::vsnprintf(text, sizeof text, fmt, ap);
      s->message_ = module != nullptr && *module != '\0' ? std::string(module) + ": " + text
                                                          : std::string(text);
    }
    return 1; // handled: nothing goes to stderr
  }
  // libtiff's own warnings concern tags (unknown, or of an odd type) and
  // leave the pixels intact; libjpeg's (JPEG-compressed strips) are about
  // the data ("Corrupt JPEG data", "Premature end of JPEG file") and fail
  // the frame, as the JPEG reader's do.
  static int on_warning(TIFF* t, void* user, const char* module, const char* fmt, va_list ap) {
    if (module != nullptr && std::strcmp(module, "JPEGLib") == 0)
      return on_error(t, user, module, fmt, ap);
    return 1;
  }

  void check_libtiff() {
    if (!message_.empty())
      fail_libtiff();
  }
  [[noreturn]] void fail_libtiff() {
    fail("truncated or corrupt TIFF: "
         + (message_.empty() ? std::string("libtiff gave no reason") : message_));
  }

  // Closed even when the constructor fails.
  struct handle {
    TIFF* t = nullptr;
    handle() = default;
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() {
      if (t != nullptr)
        TIFFClose(t);
    }
  };
  struct rgba_state {
    TIFFRGBAImage img{};
    bool begun = false;
    rgba_state() = default;
    rgba_state(const rgba_state&) = delete;
    rgba_state& operator=(const rgba_state&) = delete;
    ~rgba_state() {
      if (begun)
        TIFFRGBAImageEnd(&img);
    }
  };

  memory_file file_;
  std::int64_t max_pixels_;
  std::string message_; ///< libtiff's first error, if any
  handle tif_;          ///< after file_ and message_: closed before them
  rgba_state rgba_;     ///< after tif_: ended before it is closed
  std::uint32_t width_ = 0;
  std::uint32_t height_ = 0;
  std::uint16_t samples_ = 1;
  bool scanlines_ = false; ///< 8-bit grey or RGB strips, read a scanline at a time
  bool grey_ = false;
  bool started_ = false;
  int row_ = 0;
  int unit_rows_ = 1;
  int unit_first_ = 0;
  int unit_count_ = 0;
  std::vector<std::uint8_t> line_;
  std::vector<std::uint32_t> raster_;
};

} // namespace

bool is_tiff(const std::uint8_t* data, std::size_t size) {
  if (data == nullptr || size < 4)
    return false;
  bool little = data[0] == 'I' && data[1] == 'I';
  bool big = data[0] == 'M' && data[1] == 'M';
  unsigned version = little ? unsigned(data[2]) | unsigned(data[3]) << 8
                            : unsigned(data[2]) << 8 | unsigned(data[3]);
  return (little || big) && (version == 42 || version == 43);
}

std::unique_ptr<band_source> open_tiff_bands(const std::uint8_t* data, std::size_t size,
                                             std::int64_t max_pixels, std::string name) {
  return std::make_unique<tiff_source>(data, size, max_pixels, std::move(name));
}

} // namespace seg::kernels
