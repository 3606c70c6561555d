#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include <caf/spawn_options.hpp>

#include "actors/interfaces.hpp"
#include "kernels/stitch.hpp"

namespace seg::shm {
class image_segment;
}

namespace seg {

/// One tiled frame the stitcher is merging.
struct stitch_frame {
  tile_frame frame;
  reader_actor reader;                         ///< told when it is stitched
  std::shared_ptr<shm::image_segment> pixels;  ///< the corrected frame
  std::unique_ptr<kernels::tile_stitcher> merge;
  std::set<std::int32_t> tiles_in;             ///< tiles added
  step_timings timings;                        ///< the frame's and its tiles'
  tile_stats stats;
};

struct tile_stitcher_state {
  static inline const char* name = "tile-stitcher";
  exporter_actor exporter;
  /// Open frames by (job, generation, frame index).
  std::map<std::tuple<std::uint64_t, std::uint32_t, std::uint32_t>, stitch_frame> frames;
  /// stitch_wait: while a frame is open, the time not spent on a message.
  std::chrono::steady_clock::time_point idle_since;
  std::chrono::steady_clock::time_point message_started; ///< of the current message
};

/// The tile stitcher: see tile_stitcher_actor in interfaces.hpp. Results go
/// to `exporter`, which spawns it.
tile_stitcher_actor::behavior_type
tile_stitcher(tile_stitcher_actor::stateful_pointer<tile_stitcher_state> self,
              exporter_actor exporter);

template <caf::spawn_options Os = caf::linked, class Spawner>
tile_stitcher_actor spawn_tile_stitcher(Spawner& spawner, exporter_actor exporter) {
  return spawner.template spawn<Os>(tile_stitcher, std::move(exporter));
}

} // namespace seg
