#pragma once

// Messages of tiled frames (DESIGN "Tiled frames"): a frame too big to be
// segmented whole is decoded once, band by band, into shared memory; its
// tiles are segmented by any workers of that host; the tile stitcher merges
// their border pieces into the frame's objects.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/frame_result.hpp"
#include "messages/tile_grid.hpp"

namespace seg {

/// A tiled frame decoded and corrected into shared memory, from the reader
/// to the tile stitcher (through the exporter), before its tiles go out.
struct tile_frame {
  std::uint64_t job_id = 0;
  std::uint32_t generation = 0;
  std::uint32_t index = 0;        ///< frame index
  std::string name;               ///< frame file name
  tile_grid grid;
  std::string pixels_segment;     ///< the corrected frame (CV_8UC3)
  std::int32_t threshold = 0;     ///< the frame's triangle threshold
  segment_params params;
  step_timings timings;           ///< of reading, decoding and correcting it
  std::string node;               ///< the node that decoded it
  /// Milliseconds workers waited for work while the reader held tiled
  /// frames back for the stitcher (pipeline backpressure), since the
  /// job's previous tiled frame.
  double held_back_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tile_frame& x) {
  return f(x.job_id, x.generation, x.index, x.name, x.grid, x.pixels_segment, x.threshold,
           x.params, x.timings, x.node, x.held_back_ms);
}

/// An object of a tile that lies whole inside its core, measured.
struct tile_object {
  std::int32_t first_x = 0;  ///< its first pixel in raster order (frame coordinates)
  std::int32_t first_y = 0;
  std::int32_t bbox_x = 0;
  std::int32_t bbox_y = 0;
  std::int32_t bbox_width = 0;
  std::int32_t bbox_height = 0;
  std::vector<std::uint64_t> features; ///< as object_record::features
  std::vector<std::uint8_t> crop_jpeg;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tile_object& x) {
  return f(x.first_x, x.first_y, x.bbox_x, x.bbox_y, x.bbox_width, x.bbox_height,
           x.features, x.crop_jpeg);
}

/// A region of a tile's core that reaches a seam (kernels::tile_piece).
struct tile_piece_record {
  std::int32_t first_x = 0;
  std::int32_t first_y = 0;
  std::int32_t bbox_x = 0;
  std::int32_t bbox_y = 0;
  std::int32_t bbox_width = 0;
  std::int32_t bbox_height = 0;
  std::int64_t area = 0;
  std::vector<std::int32_t> runs; ///< (y, x_begin, x_end) per run, frame coordinates
  std::uint8_t seams = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tile_piece_record& x) {
  return f(x.first_x, x.first_y, x.bbox_x, x.bbox_y, x.bbox_width, x.bbox_height, x.area,
           x.runs, x.seams);
}

/// A worker's answer for one tile, to the exporter, which hands it to the
/// tile stitcher.
struct tile_report {
  std::uint64_t job_id = 0;
  std::uint32_t generation = 0;
  std::uint32_t index = 0;  ///< frame index
  std::int32_t tile = 0;
  bool ok = true;
  std::string error;        ///< why the tile failed, naming the frame's file
  std::vector<tile_object> objects;
  std::vector<tile_piece_record> pieces;
  std::int64_t pixels = 0;  ///< pixels of the tile's extent (its core and halo)
  /// wait_ms: the worker waiting for the tile; mask_ms: segmenting it (mask,
  /// label, features and crops are one kernel call, segment_tile).
  step_timings timings;
  std::string node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tile_report& x) {
  return f(x.job_id, x.generation, x.index, x.tile, x.ok, x.error, x.objects, x.pieces,
           x.pixels, x.timings, x.node);
}

} // namespace seg
