#pragma once

// A frame file of any format segflow reads (JPEG, PNG, TIFF), decoded a band
// of rows at a time: what jpeg_band_reader is for JPEGs, whatever the file
// holds. The format is told by the file's first bytes, never its name. The
// pixels are cv::imread(IMREAD_COLOR)'s, with the JPEG reader's strictness: a
// truncated or corrupt file fails, never decodes to padding.
//
// PNG: 1- to 16-bit grey, grey+alpha, RGB, RGBA, palette; alpha dropped and
// 16-bit samples cut to their high byte, and the eXIf chunk's orientation
// applied by decode_frame, as imread does. An interlaced PNG is decoded
// whole on its first band (Adam7 passes span the image): not for tiled
// frames (tiled_frame_problem).
// TIFF: single page, orientation 1, unsigned samples, whatever libtiff's RGBA
// interface reads (strips or tiles, any codec libtiff has, grey, RGB,
// palette, YCbCr, CMYK, 8 or 16 bits); 8-bit grey and RGB strips are read a
// scanline at a time, other kinds a strip or a row of tiles at a time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <opencv2/core/mat.hpp>

#include "kernels/decode.hpp"
#include "kernels/jpeg_bands.hpp"

namespace seg::kernels {

class band_source;

/// Reads one frame held in memory (the bytes must outlive the reader) band
/// by band, top to bottom in coded order, with jpeg_band_reader's interface
/// and rules. Move-only.
class frame_band_reader {
public:
  /// Reads the headers. Throws decode_error: empty, not a JPEG, PNG or TIFF,
  /// corrupt headers, a kind of PNG or TIFF that is refused (see above).
  /// @param max_pixels start() refuses frames whose header says
  ///        width*height > max_pixels, before any pixel memory is allocated
  /// @param name what the errors call the file (its path); may be empty
  frame_band_reader(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                    std::string name = {});
  /// A JPEG reader already opened.
  frame_band_reader(jpeg_band_reader jpeg); // NOLINT: a JPEG reader is a frame reader
  ~frame_band_reader();
  frame_band_reader(frame_band_reader&&) noexcept;
  frame_band_reader& operator=(frame_band_reader&&) noexcept;

  cv::Size coded_size() const;
  /// EXIF orientation 1..8 of a JPEG or a PNG (its eXIf chunk), 1 when
  /// absent or invalid; always 1 for TIFF (refused otherwise). The bands are
  /// not oriented: orientation 1 is the only one whose bands are the frame's.
  int orientation() const;
  /// Samples per pixel in the file (alpha included for PNG and TIFF).
  int components() const;
  /// The headers as probe_frame reports them.
  jpeg_probe_result info() const;
  /// True when the first band decodes the whole frame into the reader's own
  /// memory (an interlaced PNG): not a reader for tiled frames.
  bool decoded_whole() const;

  /// As jpeg_band_reader: start() checks the pixel limit; read(band)
  /// decodes the next min(band.rows, rows left) rows into band (CV_8UC3,
  /// coded_size().width columns, 8-bit BGR, grey replicated) and returns how
  /// many; errors are sticky decode_errors "NAME: reason".
  void start();
  int next_row() const;
  bool done() const;
  int read(cv::Mat& band);

private:
  std::unique_ptr<band_source> s_;
};

/// What a frame's headers say (size, orientation, components), read without
/// decoding any pixel.
/// @param why when not null, gets the reason a frame is refused
/// @return nullopt if the bytes are not a frame segflow reads
std::optional<jpeg_probe_result> probe_frame(const std::uint8_t* data, std::size_t size,
                                             std::string* why = nullptr);

/// Why a frame with these headers cannot be a tiled frame, read band by
/// band into shared memory ("" when it can): rotated (EXIF orientation) or
/// decoded whole (an interlaced PNG).
std::string tiled_frame_problem(const jpeg_probe_result& info);

/// A frame's coded size from its first bytes, without decoding (jpeg_size
/// for JPEGs, the IHDR chunk for PNGs, the first directory for TIFFs, which
/// may lie anywhere in the file: give a TIFF's whole file).
std::optional<cv::Size> frame_size(const std::uint8_t* data, std::size_t size);

/// True if the bytes start as a TIFF does (its size needs the whole file).
bool looks_like_tiff(const std::uint8_t* data, std::size_t size);

/// Decodes a whole frame into `out` (8-bit BGR; a buffer of the frame's
/// size is reused), oriented as cv::imread does (JPEG and PNG): decode_jpeg
/// for JPEGs.
/// Errors are decode_error with the reason alone, as decode_jpeg's.
void decode_frame(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                  cv::Mat& out);
cv::Mat decode_frame(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels);

} // namespace seg::kernels
