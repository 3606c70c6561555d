#include "kernels/jpeg_bands.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <utility>

#include <jpeglib.h>
// jpeglib.h must come first: jerror.h uses its types.
#include <jerror.h>

#include "kernels/exif_orientation.hpp"

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

// Orientation tag (0x0112) of IFD0 in the first Exif APP1 segment; 1 when
// absent or invalid.
int jpeg_orientation(const jpeg_decompress_struct& cinfo) {
  for (auto* m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 + 8
        || std::memcmp(m->data, "Exif\0\0", 6) != 0)
      continue;
    return exif_orientation(m->data + 6, m->data_length - 6);
  }
  return 1;
}

} // namespace

struct jpeg_band_reader::state {
  jpeg_decompress_struct cinfo;
  strict_error_mgr err;
  std::int64_t max_pixels = 0;
  std::string name;
  int orientation = 1; // read with the headers: saved markers go at the end
  bool created = false;
  bool started = false;
  bool finished = false;
  std::string failure; // once set, every call throws it

  state() {
    std::memset(&cinfo, 0, sizeof cinfo);
    std::memset(&err, 0, sizeof err);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.emit_message = on_message;
  }
  ~state() {
    if (created)
      jpeg_destroy_decompress(&cinfo);
  }
  state(const state&) = delete;
  state& operator=(const state&) = delete;

  [[noreturn]] void fail(const std::string& reason) {
    failure = name.empty() ? reason : name + ": " + reason;
    throw decode_error(failure);
  }
  [[noreturn]] void fail_libjpeg() {
    fail(std::string(err.was_warning ? "truncated or corrupt JPEG: " : "cannot decode JPEG: ")
         + err.message);
  }
  void throw_if_failed() const {
    if (!failure.empty())
      throw decode_error(failure);
  }

  // Runs f(&cinfo) catching libjpeg's errors: false when it failed. No
  // object with a destructor lives in the frames a jump back skips.
  template <class F>
  bool guarded(F&& f) {
    if (setjmp(err.jump) != 0)
      return false;
    f(&cinfo);
    return true;
  }
};

jpeg_band_reader::jpeg_band_reader(const std::uint8_t* data, std::size_t size,
                                   std::int64_t max_pixels, std::string name)
    : s_(std::make_unique<state>()) {
  s_->max_pixels = max_pixels;
  s_->name = std::move(name);
  if (data == nullptr || size == 0)
    s_->fail("empty file (0 bytes)");
  if (size < 2 || data[0] != 0xFF || data[1] != 0xD8)
    s_->fail("not a JPEG image (no JPEG start marker)");
  state& s = *s_;
  bool ok = s.guarded([&](j_decompress_ptr cinfo) {
    jpeg_create_decompress(cinfo);
    s.created = true;
    jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);
  });
  if (!ok)
    s.fail_libjpeg();
  s.orientation = jpeg_orientation(s.cinfo);
}

jpeg_band_reader::~jpeg_band_reader() = default;
jpeg_band_reader::jpeg_band_reader(jpeg_band_reader&&) noexcept = default;
jpeg_band_reader& jpeg_band_reader::operator=(jpeg_band_reader&&) noexcept = default;

cv::Size jpeg_band_reader::coded_size() const {
  return {int(s_->cinfo.image_width), int(s_->cinfo.image_height)};
}

int jpeg_band_reader::orientation() const { return s_->orientation; }

int jpeg_band_reader::components() const { return s_->cinfo.num_components; }

jpeg_probe_result jpeg_band_reader::info() const {
  jpeg_probe_result r;
  r.coded = coded_size();
  r.orientation = orientation();
  r.decoded = r.orientation >= 5 ? cv::Size(r.coded.height, r.coded.width) : r.coded;
  r.components = components();
  return r;
}

void jpeg_band_reader::start() {
  state& s = *s_;
  s.throw_if_failed();
  if (s.started)
    return;
  const auto& c = s.cinfo;
  if (std::int64_t(c.image_width) * std::int64_t(c.image_height) > s.max_pixels)
    s.fail(std::to_string(c.image_width) + "x" + std::to_string(c.image_height)
           + " exceeds the limit of " + std::to_string(s.max_pixels) + " pixels");
  if (c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK)
    s.fail("CMYK/YCCK JPEG: colour space not supported");
  // libjpeg's defaults otherwise (islow IDCT, fancy upsampling), as OpenCV's
  // reader leaves them.
  s.cinfo.out_color_space = JCS_EXT_BGR;
  if (!s.guarded([](j_decompress_ptr cinfo) { jpeg_start_decompress(cinfo); }))
    s.fail_libjpeg();
  s.started = true;
}

int jpeg_band_reader::next_row() const { return s_->started ? int(s_->cinfo.output_scanline) : 0; }

bool jpeg_band_reader::done() const { return s_->finished; }

int jpeg_band_reader::read(cv::Mat& band) {
  start();
  state& s = *s_;
  if (s.finished)
    return 0;
  CV_Assert(band.type() == CV_8UC3 && band.cols == int(s.cinfo.output_width));
  const int first = int(s.cinfo.output_scanline);
  const int want = std::min(band.rows, int(s.cinfo.output_height) - first);
  bool stalled = false;
  bool ok = s.guarded([&](j_decompress_ptr cinfo) {
    constexpr int batch = 16;
    JSAMPROW rows[batch];
    int done = 0;
    while (done < want) {
      int n = std::min(batch, want - done);
      for (int i = 0; i < n; ++i)
        rows[i] = band.ptr<JSAMPLE>(done + i);
      auto got = jpeg_read_scanlines(cinfo, rows, JDIMENSION(n));
      if (got == 0) { // a memory source never suspends; never loop on it
        stalled = true;
        return;
      }
      done += int(got);
    }
    if (cinfo->output_scanline == cinfo->output_height)
      jpeg_finish_decompress(cinfo); // reads to the end: a truncated tail fails here
  });
  if (!ok)
    s.fail_libjpeg();
  if (stalled)
    s.fail("truncated or corrupt JPEG: the decoder made no progress");
  s.finished = s.cinfo.output_scanline == s.cinfo.output_height;
  return want;
}

} // namespace seg::kernels
