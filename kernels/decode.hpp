#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include <opencv2/core/mat.hpp>

namespace seg::kernels {

/// Why a JPEG could not be decoded. what() is the reason alone (no file
/// name), e.g. "truncated or corrupt JPEG: Premature end of JPEG file".
class decode_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// width x height as a 64-bit count (cv::Size::area() overflows an int
/// from 46341 x 46341 on).
inline std::int64_t pixels(cv::Size s) {
  return std::int64_t(s.width) * std::int64_t(s.height);
}

/// The most pixels a JPEG can have (65535 x 65535): as max_pixels, no limit
/// beyond the format's (crops and thumbnails, never frames).
inline constexpr std::int64_t any_jpeg_pixels = 65535LL * 65535LL;

/// What a JPEG's headers say, read without decoding any pixel.
struct jpeg_probe_result {
  cv::Size coded;        ///< width x height in the frame header (SOF)
  cv::Size decoded;      ///< size decode_jpeg returns: coded, transposed for
                         ///< EXIF orientations 5-8
  int orientation = 1;   ///< EXIF orientation 1..8 (1 when absent or invalid)
  int components = 0;    ///< colour components in the file (1 grey, 3, 4 CMYK)
  bool decoded_whole = false; ///< a band reader decodes it whole on its first
                              ///< band (an interlaced PNG)
};

/// Reads the headers of a JPEG (up to the first scan) with libjpeg.
/// @return nullopt if the bytes are not a JPEG or its headers are corrupt.
std::optional<jpeg_probe_result> probe_jpeg(const std::uint8_t* data, std::size_t size);

/// Decodes a JPEG to 8-bit BGR with libjpeg-turbo, as cv::imread does
/// (same pixels: default IDCT and upsampling, grey replicated to 3 channels,
/// the EXIF orientation applied), but strict: every libjpeg warning about the
/// data (premature end of file, corrupt or extraneous data, bad Huffman or
/// arithmetic code, bad progression) is an error, so a truncated file fails
/// instead of decoding to a grey-padded frame. Metadata-only warnings
/// (unknown JFIF revision, unknown Adobe transform, bad ICC marker) are
/// ignored.
/// @param max_pixels frames whose header says width*height > max_pixels are
///        refused before any pixel memory is allocated
/// @return CV_8UC3 BGR, decoded-size rows x cols
/// @throws decode_error with the reason: not a JPEG, too large, unsupported
///         colour space (CMYK/YCCK), truncated or corrupt data
cv::Mat decode_jpeg(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels);

/// The same, decoding into `out`, whose buffer is reused when it already has
/// the frame's size: a fresh 37 MB buffer per frame costs ~9,000 page faults.
void decode_jpeg(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                 cv::Mat& out);

} // namespace seg::kernels
