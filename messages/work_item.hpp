#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/segment_params.hpp"
#include "messages/tile_grid.hpp"

namespace seg {

/// What a worker is asked to do next (the reader's answer to a pull).
enum class work_kind : std::uint8_t {
  idle = 0,        ///< nothing now: ask again after `retry_ms`
  flat_decode = 1, ///< decode frame `name` into slot `index` of the stack segment
  flat_band = 2,   ///< median of rows [row_begin, row_end) of the stack into the flat
  segment = 3,     ///< segment frame `index` with the flat
  shutdown = 4,    ///< no more work ever: quit
  tile_read = 5,   ///< decode and correct tiled frame `index` into pixels_segment
  tile = 6,        ///< segment tile `tile` of frame `index` from pixels_segment
  flat_stream = 7, ///< the median of frames `flat_names` into the flat, band by band
};

/// Text name of a work kind.
inline const char* to_string(work_kind k) {
  switch (k) {
    case work_kind::idle: return "idle";
    case work_kind::flat_decode: return "flat_decode";
    case work_kind::flat_band: return "flat_band";
    case work_kind::segment: return "segment";
    case work_kind::shutdown: return "shutdown";
    case work_kind::tile_read: return "tile_read";
    case work_kind::tile: return "tile";
    case work_kind::flat_stream: return "flat_stream";
  }
  return "unknown";
}

/// One unit of work handed out by the reader. Pixels never travel: frames
/// travel as encoded bytes, the flat and the stack as shared-memory names.
struct work_item {
  work_kind kind = work_kind::idle;
  std::uint64_t job_id = 0;
  std::uint32_t generation = 0;     ///< flat generation this work belongs to
  std::uint32_t index = 0;          ///< frame index (segment) or stack slot (flat)
  std::string name;                 ///< frame file name
  std::string path;                 ///< frame file path
  std::vector<std::uint8_t> bytes;  ///< encoded frame, read by the reader
  std::string stack_segment;        ///< shm segment of the flat's input frames
  std::string flat_segment;         ///< shm segment of the flat field
  std::uint32_t stack_count = 0;    ///< frames in the stack
  /// segment: the frame is decoded already in this slot of stack_segment
  /// (the flat's frames); the worker corrects it from there instead of
  /// decoding `bytes`, which stay for a worker that cannot map the
  /// segment. -1: decode `bytes`.
  std::int32_t stack_slot = -1;
  /// segment: decode and correct the frame in bands of this many rows
  /// (pipeline.decode_band_rows); 0: decode it whole, then correct it.
  std::int32_t band_rows = 0;
  std::int32_t row_begin = 0;       ///< flat band rows
  std::int32_t row_end = 0;
  std::uint32_t retry_ms = 0;       ///< for idle
  segment_params params;
  double read_ms = 0;               ///< time the reader spent reading `bytes`
  /// segment with remove_previous_mask: the frames before `name` in
  /// acquisition order, nearest first (file names beside `path`); the first
  /// usable one gives the previous mask. Empty: no previous mask.
  std::vector<std::string> previous;
  // -- tiled frames (DESIGN "Tiled frames") --
  tile_grid grid;                   ///< how the frame is cut
  std::int32_t tile = -1;           ///< tile: which tile, raster order of tiles
  std::string pixels_segment;       ///< shm: the corrected frame (CV_8UC3)
  std::int32_t threshold = 0;       ///< tile: the frame's triangle threshold
  /// flat_stream: the flat's frames (file names beside `path`), decoded side
  /// by side a band of rows at a time (tiled acquisitions: no frame stack).
  std::vector<std::string> flat_names;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, work_item& x) {
  return f(x.kind, x.job_id, x.generation, x.index, x.name, x.path, x.bytes,
           x.stack_segment, x.flat_segment, x.stack_count, x.stack_slot, x.band_rows,
           x.row_begin, x.row_end, x.retry_ms, x.params, x.read_ms, x.previous, x.grid,
           x.tile, x.pixels_segment, x.threshold, x.flat_names);
}

} // namespace seg
