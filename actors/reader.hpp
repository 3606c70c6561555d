#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/reader_job.hpp"
#include "actors/work_ledger.hpp"
#include "config/settings.hpp"

namespace seg {

/// Settings of the reader.
struct reader_config {
  config::sources base;          ///< settings sources; a job's overrides go on top
  std::uint32_t workers = 1;     ///< flat bands are cut for this many workers
  std::uint32_t reads_ahead = 2; ///< frames read ahead of the workers
  exporter_actor exporter;       ///< where a frame whose worker was lost twice fails
  /// pipeline.frame_timeout_s: an item held longer is abandoned (0 = never).
  double frame_timeout_s = 120;
  /// Told which node's workers ask for work and segment frames, and when a
  /// node's link is down (serve's node registry); none: nobody is told.
  node_registry_actor registry;
  /// The flat's frames are segmented from the stack they were decoded into
  /// for the flat, not decoded again. Off only to measure what it saves.
  bool decode_once = true;
  /// Frames are decoded and corrected in bands of this many rows
  /// (work_item::band_rows); 0: whole frames.
  std::int32_t decode_band_rows = 16;
};

/// A worker waiting for work (its pull request).
struct waiting_worker {
  caf::actor_addr who;
  caf::typed_response_promise<work_item> rp;
};

struct reader_state {
  static inline const char* name = "reader";
  reader_config cfg;
  queue_actor queue;
  status_hub_actor hub;
  std::deque<reader_job> jobs; ///< in run order
  std::deque<waiting_worker> waiting;         ///< idle workers
  /// What each worker holds, lost workers' items, overruns. Workers are
  /// monitored from their first pull; a lost worker's item goes back to the
  /// front of its job.
  work_ledger<caf::actor_addr> ledger;
  /// Supervisors of worker processes, by node (see atom::join).
  std::map<caf::node_id, caf::actor> supervisors;
  /// Nodes that do not share this host's shared memory: their workers get
  /// frames only (flat steps write into this host's segments).
  std::set<caf::node_id> frames_only_nodes;
  /// Paths mode: the jobs whose frames go to a node's workers as paths
  /// (verified by that node, see atom::paths), by node.
  std::map<caf::node_id, std::set<std::uint64_t>> path_jobs;
  /// Workers this reader spawned to replace abandoned in-process ones.
  std::vector<segment_worker_actor> replacements;
  bool prefetch_scheduled = false;
  bool tick_scheduled = false;
  bool poll_scheduled = false;  ///< a followed job's integrity.check is re-read
};

/// How far past the lowest frame in flight a job with the recalculation
/// heuristic hands frames out (see reader.cpp).
inline std::uint32_t recalc_window(const reader_config& cfg) {
  return std::max<std::uint32_t>(8, 4 * cfg.workers);
}

/// The reader: see reader_actor in interfaces.hpp.
reader_actor::behavior_type reader(reader_actor::stateful_pointer<reader_state> self,
                                   reader_config cfg, queue_actor queue,
                                   status_hub_actor hub);

/// The first problem with a reader's settings, or none: reads_ahead >= 1,
/// frame_timeout_s finite and >= 0 (0: no limit). Errors are
/// caf::sec::invalid_argument with the text.
caf::error validate(const reader_config& cfg);

/// Validates the settings and spawns a reader through `spawner`: the actor
/// system, or the actor that owns the reader (the queue, which links it:
/// Os = linked). The exporter (cfg.exporter), queue and hub must be set.
template <caf::spawn_options Os = caf::no_spawn_options, class Spawner>
caf::expected<reader_actor> spawn_reader(Spawner& spawner, const reader_config& cfg,
                                         queue_actor queue, status_hub_actor hub) {
  if (!cfg.exporter || !queue || !hub)
    return caf::make_error(caf::sec::invalid_argument,
                           "reader: the exporter, the queue and the status hub must be set");
  if (auto err = validate(cfg))
    return err;
  return spawner.template spawn<Os>(reader, cfg, std::move(queue), std::move(hub));
}

} // namespace seg
