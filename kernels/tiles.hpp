#pragma once
// Tiled segmentation of one frame: the frame cut into tiles with a halo,
// each tile segmented on its own with the frame's threshold; objects whole
// inside a tile's core come out measured, regions touching a seam come out
// as pieces for the stitcher (kernels/stitch.hpp), which merges them into
// exactly the objects of an untiled run.

#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "kernels/correct.hpp"
#include "kernels/features.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"

namespace seg::kernels {

/// What segmenting a frame needs beyond its pixels, tiled or not.
struct segment_params {
  mask_params mask;
  double min_esd_px = 20; ///< size filter, pixels (SPEC §3.4)
  int crop_margin = 10;   ///< crop_rect's margin, px
  int jpeg_quality = 75;  ///< crop JPEG quality
};

/// A frame cut into tiles: the cores partition the frame in raster order of
/// tiles (the last column and row of tiles may be narrower); each tile is
/// read over its extent, its core grown by `halo` px and clamped to the frame.
struct tile_layout {
  cv::Size frame;
  cv::Size tile; ///< core size of every tile but the last column/row
  int halo = 0;

  int cols() const { return (frame.width + tile.width - 1) / tile.width; }
  int rows() const { return (frame.height + tile.height - 1) / tile.height; }
  int count() const { return cols() * rows(); }
  cv::Rect core(int index) const;
  cv::Rect extent(int index) const;
  /// The tile `index` + (dx, dy) in the grid, or -1 outside it.
  int neighbour(int index, int dx, int dy) const;
};

/// The layout for `tile` sized cores: a halo as wide as the morphology's
/// reach (so a tile's mask is the frame's on its core) and the crop margin
/// (so an object inside the core has its whole crop in the tile).
/// @pre tile width and height >= 1
tile_layout make_tile_layout(cv::Size frame, cv::Size tile, const segment_params& p);

/// The eight neighbour directions as bits of tile_piece::seams.
enum seam_bit : std::uint8_t {
  seam_n = 1, seam_s = 2, seam_w = 4, seam_e = 8,
  seam_nw = 16, seam_ne = 32, seam_sw = 64, seam_se = 128,
};
/// (dx, dy) of a seam bit's neighbour.
cv::Point seam_offset(seam_bit bit);
/// The bit of the opposite direction (n <-> s, nw <-> se, ...).
seam_bit opposite(seam_bit bit);

/// A connected region of a tile's core that reaches a seam (the core's edge
/// where another tile's core begins): part of an object that may go on in
/// the neighbours. Its runs are in frame coordinates, in raster order.
struct tile_piece {
  cv::Point first;              ///< its first pixel in raster order
  cv::Rect bbox;                ///< frame coordinates
  std::int64_t area = 0;        ///< pixel count: summed over merged pieces
  std::vector<pixel_run> runs;  ///< frame coordinates, raster order
  std::uint8_t seams = 0;       ///< seam_bit per neighbour it touches
};

/// An object of the frame with its measurements and crop.
struct frame_object {
  cv::Point first;     ///< its first pixel in raster order: the untiled label order
  cv::Rect bbox;       ///< frame coordinates
  object_features features;
  std::vector<std::uint8_t> crop_jpeg;
};

/// What one tile gives the stitcher.
struct tile_result {
  int tile = 0;
  std::vector<frame_object> objects; ///< whole inside the core, kept by the size filter
  std::vector<tile_piece> pieces;    ///< reaching a seam, not yet filtered
};

/// The histogram of the core part of a tile's gray extent: the frame's
/// histogram is the sum of its tiles' (their cores partition it).
gray_histogram core_histogram(const tile_layout& layout, int tile, const cv::Mat& gray_extent);

/// Adds b into a.
void add_histogram(gray_histogram& a, const gray_histogram& b);

/// Segments one tile with the frame's threshold: the mask over the extent,
/// labelled over the core; regions that reach no seam are measured (size
/// filter, features, crop) as an untiled run measures them, the others
/// become pieces.
/// @param corrected_extent CV_8UC3, the corrected frame over layout.extent(tile)
/// @param gray_extent its gray image (CV_8UC1, same size)
/// @param previous_threshold_mask with remove_previous_mask: the previous
///        frame's step-0 mask over the extent (make_mask's state, updated)
tile_result segment_tile(const tile_layout& layout, int tile, const cv::Mat& corrected_extent,
                         const cv::Mat& gray_extent, int threshold, const segment_params& p,
                         cv::Mat* previous_threshold_mask = nullptr);

/// Measures one region given by its runs (frame coordinates, raster order)
/// and encodes its crop, as an untiled run does, from `pixels`: the
/// corrected frame over `pixels_rect` (which holds the region's crop rect).
frame_object measure_runs(const std::vector<pixel_run>& runs, const cv::Rect& bbox,
                          cv::Size frame, const cv::Mat& pixels, const cv::Rect& pixels_rect,
                          const segment_params& p);

} // namespace seg::kernels
