// libFuzzer target: a frame's JPEG header as the preflight and the reader
// read it (jpeg_size), then the strict decoder on frames it would accept
// (small ones, so each execution stays fast).
#include "kernels/decode.hpp"
#include "kernels/jpeg_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto header = seg::kernels::jpeg_size(data, size);
  if (!header)
    return 0;
  try {
    cv::Mat out;
    seg::kernels::decode_jpeg(data, size, 256 * 256, out);
  } catch (const seg::kernels::decode_error&) {
    // refused: too large, corrupt, truncated, unsupported
  }
  return 0;
}
