#pragma once

// A JPEG decoded a band of rows at a time through libjpeg-turbo's scanline
// interface: a frame too big to hold decoded (tiled frames), or one whose
// rows are worked on while still in cache (correct while decoding), never
// needs the whole decoded image. The pixels are decode_jpeg's, bit for bit
// (decode_jpeg is built on this reader), with the same strictness.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <opencv2/core/mat.hpp>

#include "kernels/decode.hpp"

namespace seg::kernels {

/// Reads one JPEG held in memory (bytes or an mmap'd file: they must outlive
/// the reader) band by band, top to bottom in coded order. Move-only.
/// Errors are decode_error whose what() is "NAME: reason" ("reason" alone
/// when no name was given), e.g. "img/x.jpg: truncated or corrupt JPEG:
/// Premature end of JPEG file".
class jpeg_band_reader {
public:
  /// Reads the headers. Throws decode_error: empty, not a JPEG, corrupt
  /// headers.
  /// @param max_pixels start() refuses frames whose header says
  ///        width*height > max_pixels, before any pixel memory is allocated
  /// @param name what the errors call the file (its path); may be empty
  jpeg_band_reader(const std::uint8_t* data, std::size_t size, std::int64_t max_pixels,
                   std::string name = {});
  ~jpeg_band_reader();
  jpeg_band_reader(jpeg_band_reader&&) noexcept;
  jpeg_band_reader& operator=(jpeg_band_reader&&) noexcept;

  /// Width x height in the frame header; the rows come in this order.
  cv::Size coded_size() const;
  /// EXIF orientation 1..8 (1 when absent or invalid). The bands are not
  /// oriented: orientation 1 is the only one whose bands are the frame's.
  int orientation() const;
  /// Colour components in the file (1 grey, 3, 4 CMYK).
  int components() const;
  /// The headers as probe_jpeg reports them.
  jpeg_probe_result info() const;

  /// Starts decompressing (idempotent; read() calls it). Throws decode_error:
  /// above max_pixels, CMYK/YCCK.
  void start();
  /// Rows decoded so far (the next band's first row).
  int next_row() const;
  /// True once every row is decoded and the file checked to its end.
  bool done() const;

  /// Decodes the next min(band.rows, rows left) rows into band's first rows
  /// (8-bit BGR, grey replicated). `band` is CV_8UC3 with coded_size().width
  /// columns; it may be a view into a larger image. With the last rows the
  /// rest of the file is checked too, so a truncated file fails before its
  /// last band is returned. Throws decode_error; after one, every call throws
  /// it again.
  /// @return rows decoded (0 when done)
  int read(cv::Mat& band);

private:
  struct state;
  std::unique_ptr<state> s_;
};

/// Decodes the whole image `band_rows` rows at a time into `band` (a buffer
/// of band_rows x width, reused: allocated only if its size differs) and
/// calls on_band(first_row, rows) with a view of the rows decoded; on_band
/// returns false to stop before the next band. Reader: jpeg_band_reader or
/// frame_band_reader.
/// @return true when every band was decoded, false when on_band stopped it
template <class Reader>
bool decode_bands(Reader& reader, int band_rows, cv::Mat& band,
                  const std::function<bool(int first_row, const cv::Mat& rows)>& on_band) {
  CV_Assert(band_rows > 0);
  reader.start();
  band.create(band_rows, reader.coded_size().width, CV_8UC3);
  while (!reader.done()) {
    const int first = reader.next_row();
    const int n = reader.read(band);
    if (!on_band(first, band.rowRange(0, n)))
      return reader.done();
  }
  return true;
}

} // namespace seg::kernels
