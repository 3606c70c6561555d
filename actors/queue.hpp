#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/reader.hpp"

namespace seg {

/// Settings of the queue and the pipeline it drives.
struct queue_config {
  reader_config reader;          ///< settings sources, read-ahead
  std::uint32_t workers = 1;     ///< segment workers to spawn
};

/// One queued job.
struct queue_entry {
  job_spec spec;
  job_summary summary;
};

struct queue_state {
  static inline const char* name = "queue";
  status_hub_actor hub;
  lock_manager_actor locks;
  reader_actor reader;
  exporter_actor exporter;
  std::vector<segment_worker_actor> workers;
  std::deque<queue_entry> jobs;            ///< every job, in queue order
  std::optional<std::uint64_t> running;    ///< the job being segmented
  std::optional<lease> held;               ///< its lease
  bool exporter_knows_running = false;     ///< begin was sent for it
  std::uint64_t next_id = 1;
  std::vector<caf::typed_response_promise<std::vector<job_summary>>> waiters;
};

/// The queue: see queue_actor in interfaces.hpp. It spawns (linked) the
/// reader, the exporter and `cfg.workers` segment workers on their own
/// threads.
queue_actor::behavior_type queue(queue_actor::stateful_pointer<queue_state> self,
                                 queue_config cfg, status_hub_actor hub,
                                 lock_manager_actor locks);

/// Spawns the queue (and with it the pipeline).
queue_actor spawn_queue(caf::actor_system& sys, const queue_config& cfg,
                        status_hub_actor hub, lock_manager_actor locks);

} // namespace seg
