// libFuzzer target: a frame file of any format (JPEG, PNG, TIFF) as a
// worker reads it: its size from the header (frame_size), then the band
// reader over every band of 16 rows (small frames only, so each execution
// stays fast). Seeds: PNG and TIFF of several kinds (corpus/).
#include "kernels/frame_bands.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)seg::kernels::frame_size(data, size);
  try {
    seg::kernels::frame_band_reader reader(data, size, 256 * 256, "fuzz");
    cv::Mat band;
    seg::kernels::decode_bands(reader, 16, band, [](int, const cv::Mat&) { return true; });
  } catch (const seg::kernels::decode_error&) {
    // refused: too large, corrupt, truncated, unsupported
  }
  return 0;
}
