#pragma once

// The EXIF orientation of a frame, which cv::imread applies to JPEGs and
// PNGs (an APP1 segment, an eXIf chunk): read from the Exif TIFF structure.

#include <cstddef>
#include <cstdint>

#include <opencv2/core/mat.hpp>

namespace seg::kernels {

/// The Orientation tag (0x0112) of IFD0 in an Exif TIFF structure (starting
/// "II*\0" or "MM\0*"); 1 when absent or invalid.
int exif_orientation(const std::uint8_t* tiff, std::size_t size);

/// `img` turned upright for EXIF orientation 1..8 as cv::imread does
/// (ApplyExifOrientation); flips happen in place.
cv::Mat oriented(cv::Mat img, int orientation);

/// Reads every row of `reader` (a jpeg_band_reader or frame_band_reader)
/// into `out` (its buffer reused when it already has the frame's size) and
/// turns it upright: a whole-frame decode, as cv::imread's.
template <class BandReader>
void read_upright(BandReader& reader, cv::Mat& out) {
  reader.start(); // refuses a frame above the limit before out is allocated
  out.create(reader.coded_size().height, reader.coded_size().width, CV_8UC3);
  reader.read(out);
  if (reader.orientation() != 1)
    out = oriented(out, reader.orientation());
}

} // namespace seg::kernels
