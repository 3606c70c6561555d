#include "kernels/decode.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include <jpeglib.h>
// jpeglib.h must come first: jerror.h uses its types.
#include <jerror.h>
#include <opencv2/core.hpp>

namespace seg::kernels {

namespace {

// libjpeg reports errors through callbacks; ours jump back to the decode
// function (longjmp, never across C++ frames) with the message kept here.
struct strict_error_mgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool was_warning;
};

strict_error_mgr* manager_of(j_common_ptr cinfo) {
  return reinterpret_cast<strict_error_mgr*>(cinfo->err);
}

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = manager_of(cinfo);
  (*cinfo->err->format_message)(cinfo, err->message);
  err->was_warning = false;
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0)
    return; // trace output
  auto code = cinfo->err->msg_code;
  // These concern metadata only; the pixels are intact.
  if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC)
    return;
  auto* err = manager_of(cinfo);
  (*cinfo->err->format_message)(cinfo, err->message);
  err->was_warning = true;
  std::longjmp(err->jump, 1);
}

// Owns a decompressor for the caller's whole scope, so it is destroyed
// whether the decode returns, fails or throws.
struct decompressor {
  jpeg_decompress_struct cinfo;
  strict_error_mgr err;
  int orientation = 1; // read with the headers: saved markers go at the end

  decompressor() {
    std::memset(&cinfo, 0, sizeof cinfo);
    std::memset(&err, 0, sizeof err);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.emit_message = on_message;
  }
  ~decompressor() {
    jpeg_destroy_decompress(&cinfo);
  }
  decompressor(const decompressor&) = delete;
  decompressor& operator=(const decompressor&) = delete;

  std::string reason() const {
    return std::string(err.was_warning ? "truncated or corrupt JPEG: "
                                       : "cannot decode JPEG: ")
           + err.message;
  }
};

unsigned read_u16(const JOCTET* p, bool little) {
  return little ? unsigned(p[0]) | unsigned(p[1]) << 8 : unsigned(p[0]) << 8 | unsigned(p[1]);
}

std::uint32_t read_u32(const JOCTET* p, bool little) {
  return little ? std::uint32_t(read_u16(p, true)) | std::uint32_t(read_u16(p + 2, true)) << 16
                : std::uint32_t(read_u16(p, false)) << 16 | std::uint32_t(read_u16(p + 2, false));
}

// Orientation tag (0x0112) of IFD0 in the first Exif APP1 segment; 1 when
// absent or invalid.
int exif_orientation(const jpeg_decompress_struct& cinfo) {
  for (auto* m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 + 8
        || std::memcmp(m->data, "Exif\0\0", 6) != 0)
      continue;
    const JOCTET* tiff = m->data + 6;
    const std::size_t n = m->data_length - 6;
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
  return 1;
}

enum class outcome { ok, libjpeg_failed, too_large, unsupported_colour };

// Reads the headers; with `out`, decodes too. No object with a destructor
// lives between setjmp and the jumps back into this frame.
outcome run(decompressor& d, const std::uint8_t* data, std::size_t size,
            std::int64_t max_pixels, cv::Mat* out) {
  auto* cinfo = &d.cinfo;
  if (setjmp(d.err.jump) != 0)
    return outcome::libjpeg_failed;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(cinfo, TRUE);
  d.orientation = exif_orientation(*cinfo);
  if (out == nullptr)
    return outcome::ok;
  if (std::int64_t(cinfo->image_width) * std::int64_t(cinfo->image_height) > max_pixels)
    return outcome::too_large;
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
    return outcome::unsupported_colour;
  cinfo->out_color_space = JCS_EXT_BGR;
  jpeg_start_decompress(cinfo);
  out->create(int(cinfo->output_height), int(cinfo->output_width), CV_8UC3);
  constexpr int batch = 16;
  JSAMPROW rows[batch];
  while (cinfo->output_scanline < cinfo->output_height) {
    int first = int(cinfo->output_scanline);
    int n = std::min(batch, int(cinfo->output_height) - first);
    for (int i = 0; i < n; ++i)
      rows[i] = out->ptr<JSAMPLE>(first + i);
    jpeg_read_scanlines(cinfo, rows, JDIMENSION(n));
  }
  jpeg_finish_decompress(cinfo);
  return outcome::ok;
}

// cv::imread's orientation handling (ApplyExifOrientation).
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

} // namespace

std::optional<jpeg_probe_result> probe_jpeg(const std::uint8_t* data, std::size_t size) {
  if (data == nullptr || size == 0)
    return std::nullopt;
  decompressor d;
  if (run(d, data, size, 0, nullptr) != outcome::ok)
    return std::nullopt;
  jpeg_probe_result r;
  r.coded = cv::Size(int(d.cinfo.image_width), int(d.cinfo.image_height));
  r.orientation = d.orientation;
  r.decoded = r.orientation >= 5 ? cv::Size(r.coded.height, r.coded.width) : r.coded;
  r.components = d.cinfo.num_components;
  return r;
}

cv::Mat decode_jpeg(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels) {
  cv::Mat out;
  decode_jpeg(data, size, max_pixels, out);
  return out;
}

void decode_jpeg(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                 cv::Mat& out) {
  if (data == nullptr || size == 0)
    throw decode_error("empty file (0 bytes)");
  if (size < 2 || data[0] != 0xFF || data[1] != 0xD8)
    throw decode_error("not a JPEG image (no JPEG start marker)");
  decompressor d;
  switch (run(d, data, size, max_pixels, &out)) {
    case outcome::ok:
      break;
    case outcome::libjpeg_failed:
      throw decode_error(d.reason());
    case outcome::too_large:
      throw decode_error(std::to_string(d.cinfo.image_width) + "x"
                         + std::to_string(d.cinfo.image_height) + " exceeds the limit of "
                         + std::to_string(max_pixels) + " pixels");
    case outcome::unsupported_colour:
      throw decode_error("CMYK/YCCK JPEG: colour space not supported");
  }
  if (d.orientation != 1)
    out = oriented(out, d.orientation);
}

} // namespace seg::kernels
