#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/work_item.hpp"

namespace seg {

/// One object found in a frame, with its encoded crop.
struct object_record {
  std::uint32_t index = 0;           ///< i in the frame, in label order
  /// seg::kernels::object_features in column order, as IEEE-754 bit patterns:
  /// CAF 0.17's binary serializer loses -0.0 and denormals and never returns
  /// on inf, which a feature can be (a 1-px line has minor axis 0).
  std::vector<std::uint64_t> features;
  std::vector<std::uint8_t> crop_jpeg;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, object_record& x) {
  return f(x.index, x.features, x.crop_jpeg);
}

/// Milliseconds a worker spent on each step of one frame.
struct step_timings {
  double read_ms = 0;     ///< reading the file (by the reader)
  double wait_ms = 0;     ///< the worker waiting for this work item
  double decode_ms = 0;
  double correct_ms = 0;
  double mask_ms = 0;
  double label_ms = 0;
  double features_ms = 0;
  double crops_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_timings& x) {
  return f(x.read_ms, x.wait_ms, x.decode_ms, x.correct_ms, x.mask_ms, x.label_ms, x.features_ms, x.crops_ms);
}

/// What tiling a frame cost (all zero for an untiled frame): summed into the
/// job's stage totals by the exporter.
struct tile_stats {
  std::uint32_t tiles = 0;         ///< tiles segmented
  std::int64_t tile_pixels = 0;    ///< pixels of their extents (cores and halos)
  std::int64_t frame_pixels = 0;   ///< pixels of the frame
  double read_ms = 0;              ///< decoding and correcting it into shared memory
  double segment_ms = 0;           ///< segmenting its tiles (mask to crops), summed
  double stitch_ms = 0;            ///< the stitcher's own work on the frame
  double stitch_wait_ms = 0;       ///< the stitcher waiting for its tiles
  double held_back_ms = 0;         ///< workers waiting on the stitcher's backpressure
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tile_stats& x) {
  return f(x.tiles, x.tile_pixels, x.frame_pixels, x.read_ms, x.segment_ms, x.stitch_ms,
           x.stitch_wait_ms, x.held_back_ms);
}

/// A worker's answer for one frame or one flat-field step.
struct frame_result {
  std::uint64_t job_id = 0;
  std::uint32_t generation = 0;
  work_kind kind = work_kind::idle; ///< the kind of work this answers
  std::uint32_t index = 0;          ///< frame index or stack slot
  std::string name;                 ///< frame file name
  bool ok = true;
  std::string error;                ///< why the frame failed, naming the file
  double threshold = 0;             ///< triangle threshold of the frame
  std::vector<object_record> objects;
  step_timings timings;
  std::string node;                 ///< the worker's node (host:pid)
  tile_stats tiles;                 ///< a tiled frame's (from the tile stitcher)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_result& x) {
  return f(x.job_id, x.generation, x.kind, x.index, x.name, x.ok, x.error, x.threshold,
           x.objects, x.timings, x.node, x.tiles);
}

} // namespace seg
