#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"

namespace seg::shm {
class image_segment;
}

namespace seg {

/// Settings of the reader.
struct reader_config {
  config::sources base;          ///< settings sources; a job's overrides go on top
  std::uint32_t workers = 1;     ///< flat bands are cut for this many workers
  std::uint32_t reads_ahead = 2; ///< frames read ahead of the workers
};

/// One job as the reader sees it.
struct reader_job {
  enum class phase { opened, flat_decode, flat_bands, frames, stopped };
  job_plan plan;
  phase current = phase::opened;
  std::uint32_t generation = 1;
  std::shared_ptr<shm::image_segment> stack;
  std::shared_ptr<shm::image_segment> flat;
  std::deque<std::uint32_t> decodes;  ///< stack slots still to hand out
  std::deque<std::pair<int, int>> bands;
  std::uint32_t outstanding = 0;      ///< flat steps handed out, not reported
  std::deque<std::uint32_t> frames;   ///< frame indices still to hand out
  std::deque<work_item> read_ahead;   ///< frames already read
  std::chrono::steady_clock::time_point flat_started;
};

struct reader_state {
  static inline const char* name = "reader";
  reader_config cfg;
  queue_actor queue;
  status_hub_actor hub;
  std::deque<reader_job> jobs; ///< in run order
  std::deque<caf::typed_response_promise<work_item>> waiting; ///< idle workers
  bool prefetch_scheduled = false;
};

/// The reader: see reader_actor in interfaces.hpp.
reader_actor::behavior_type reader(reader_actor::stateful_pointer<reader_state> self,
                                   reader_config cfg, queue_actor queue,
                                   status_hub_actor hub);

/// Resolves a job's plan from its folder, metadata and settings (CAF-free
/// part of the reader, exposed for tests). Throws std::runtime_error naming
/// the file and the problem.
job_plan resolve_plan(const job_spec& spec, const config::sources& base);

} // namespace seg
