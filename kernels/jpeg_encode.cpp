#include "kernels/jpeg_encode.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <string>

#include <jpeglib.h>

namespace seg::kernels {

namespace {

// libjpeg reports a fatal error through error_exit, which must not return:
// it jumps back to encode_jpeg (never across C++ frames) with the message.
struct error_mgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<error_mgr*>(cinfo->err);
  err->pub.format_message(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Output straight into the caller's vector, grown as libjpeg fills it.
struct vector_dest {
  jpeg_destination_mgr pub;
  std::vector<std::uint8_t>* out;
};

constexpr std::size_t dest_chunk = 16 * 1024;

void dest_init(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<vector_dest*>(cinfo->dest);
  d->out->resize(dest_chunk);
  d->pub.next_output_byte = d->out->data();
  d->pub.free_in_buffer = d->out->size();
}

boolean dest_grow(j_compress_ptr cinfo) {
  // Called only when the buffer is full (free_in_buffer is 0).
  auto* d = reinterpret_cast<vector_dest*>(cinfo->dest);
  auto used = d->out->size();
  d->out->resize(used * 2);
  d->pub.next_output_byte = d->out->data() + used;
  d->pub.free_in_buffer = d->out->size() - used;
  return TRUE;
}

void dest_term(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<vector_dest*>(cinfo->dest);
  d->out->resize(d->out->size() - d->pub.free_in_buffer);
}

// The libjpeg part, in a function of its own with no C++ object whose
// destructor a longjmp would skip. Returns false with err.message set.
bool compress(const cv::Mat& image, int quality, vector_dest& dest, error_mgr& err) {
  jpeg_compress_struct cinfo;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  cinfo.dest = &dest.pub;
  cinfo.image_width = JDIMENSION(image.cols);
  cinfo.image_height = JDIMENSION(image.rows);
  bool colour = image.channels() == 3;
  cinfo.input_components = colour ? 3 : 1;
  // libjpeg-turbo reads BGR rows itself: the same YCbCr as OpenCV's
  // conversion to RGB first (a kernel test compares the bytes).
  cinfo.in_color_space = colour ? JCS_EXT_BGR : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  cinfo.restart_interval = 0;
  jpeg_set_quality(&cinfo, quality, TRUE); // baseline tables, as OpenCV
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image.ptr<std::uint8_t>(int(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

} // namespace

void encode_jpeg(const cv::Mat& image, int quality, std::vector<std::uint8_t>& out) {
  if (image.empty() || (image.type() != CV_8UC3 && image.type() != CV_8UC1))
    throw std::invalid_argument("encode_jpeg: an 8-bit BGR or grey image is needed, not type "
                                + std::to_string(image.type()) + " of "
                                + std::to_string(image.cols) + "x"
                                + std::to_string(image.rows));
  vector_dest dest{};
  dest.pub.init_destination = dest_init;
  dest.pub.empty_output_buffer = dest_grow;
  dest.pub.term_destination = dest_term;
  dest.out = &out;
  error_mgr err{};
  if (!compress(image, std::clamp(quality, 0, 100), dest, err)) {
    out.clear();
    throw encode_error(std::string("JPEG encoding failed: ") + err.message);
  }
}

std::vector<std::uint8_t> encode_jpeg(const cv::Mat& image, int quality) {
  std::vector<std::uint8_t> out;
  encode_jpeg(image, quality, out);
  return out;
}

} // namespace seg::kernels
