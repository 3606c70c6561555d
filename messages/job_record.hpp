#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/job.hpp"

namespace seg {

/// A job as the queue keeps it, lists it and persists it.
struct job_record {
  job_spec spec;                    ///< id, folder, force, per-job settings
  job_summary summary;              ///< state, counters, error; while running the
                                    ///< counters are those of the frames so far
  std::int64_t started_unix_ms = 0; ///< when it last started running (UTC, ms); 0 = never
  double elapsed_s = 0;             ///< seconds spent running, summed over runs
                                    ///< (runs before a restart included)
  bool resume = false;              ///< was running when serve stopped: runs first at
                                    ///< the next start, even if the queue is stopped
  std::uint32_t position = 0;       ///< 1-based rank among pending jobs (1 runs next);
                                    ///< 0 when not pending. Filled in replies only.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_record& x) {
  return f(x.spec, x.summary, x.started_unix_ms, x.elapsed_s, x.resume, x.position);
}

/// The whole queue, as `list` shows it.
struct queue_listing {
  bool paused = false;              ///< stop-queue is in effect: no further job starts
  std::vector<job_record> jobs;     ///< every job, in queue order
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_listing& x) {
  return f(x.paused, x.jobs);
}

} // namespace seg
