#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/io/op_journal.hpp"
#include "actors/io/queue_store.hpp"
#include "actors/reader.hpp"

namespace seg {

/// Settings of the queue and the pipeline it drives.
struct queue_config {
  reader_config reader;          ///< settings sources, read-ahead
  std::uint32_t workers = 1;     ///< segment workers to spawn (0: worker processes join)
  /// The queue file, rewritten atomically on every change; empty = the
  /// queue is not persisted (segment).
  std::string state_file;
  /// The queue to start from (serve restores it with io::load_queue and
  /// io::prepare_restart).
  io::queue_snapshot initial;
  /// Prepare the next job (lease, frame listing, flat field) while the
  /// running job's last frames are in flight, so workers do not idle at
  /// the boundary. Off only to measure what it saves.
  bool prepare_next = true;
  /// The state directory whose operations journal records each job run
  /// (the exporter's, see exporter_config); empty: none.
  std::string state_dir;
  /// A stuck operation to replay (see exporter_config::recover).
  std::optional<io::op_record> recover;
  /// Group commit (see exporter_config).
  std::uint32_t commit_frames = 1;
  std::chrono::milliseconds commit_window{0};
  /// Replay: the recorded operation id of each run (see exporter_config).
  std::map<std::uint64_t, std::string> recorded_ops;
};

/// The queue's settings from the run's: `sources` are what each job's
/// settings load from (its overrides go on top), `settings` the run's own
/// (pipeline.reads_in_flight, pipeline.frame_timeout_s); `workers` pull work
/// (the flat is cut in bands for them, frames are read ahead for them), and
/// `in_process` of them are spawned by the queue (the others are worker
/// processes that join). The state file, initial queue and prepare_next
/// keep their defaults.
queue_config make_queue_config(const config::settings& settings,
                               const config::sources& sources, std::uint32_t workers,
                               std::uint32_t in_process);

/// Run ids: the reader, workers and exporter know a job by its run id, which
/// changes each time the queue hands the job to the pipeline again (a
/// prepared next job that is put back and prepared later), so a late message
/// of an abandoned run can never be taken for the current one. The first run
/// of a job has run id == job id; status events carry run ids and
/// job_of_run recovers the job id.
constexpr int run_attempt_shift = 40;

/// The job id of a run id.
constexpr std::uint64_t job_of_run(std::uint64_t run) {
  return run & ((std::uint64_t{1} << run_attempt_shift) - 1);
}

/// A job handed to the pipeline: the running job, or the next one being
/// prepared while the running job's last frames are in flight.
struct run_slot {
  std::uint64_t job = 0;                ///< job id
  std::uint64_t run = 0;                ///< run id (see run_attempt_shift)
  std::vector<lease> held;              ///< its leases (acquisition, outputs), once granted
  /// A next run whose keys the running one holds (two acquisitions with one
  /// archive path): its plan, leased and begun when it is promoted.
  std::optional<job_plan> waiting;
  bool exporter_began = false;          ///< begin was sent: a stop must reach the exporter
  bool began = false;                   ///< the exporter is ready, the reader runs it
  bool drained = false;                 ///< the reader handed out its last frame
  bool announced = false;               ///< job_started was published
  bool stopping = false;                ///< a stop was sent down the pipeline
  std::string op_id;                    ///< its operation id, once the exporter began it
  std::optional<job_summary> outcome;   ///< ended while it was only prepared
  std::chrono::steady_clock::time_point started; ///< when it became the running job
};

/// State of the queue actor. A job's elapsed time counts from when it shows
/// running; time spent preparing it during the previous job is not in it.
struct queue_state {
  static inline const char* name = "queue";
  queue_config cfg;
  status_hub_actor hub;
  lock_manager_actor locks;
  reader_actor reader;
  exporter_actor exporter;
  std::vector<segment_worker_actor> workers;
  std::deque<job_record> jobs;             ///< every job, in queue order
  std::optional<run_slot> current;         ///< the running job
  std::optional<run_slot> next;            ///< the next job, being prepared
  std::map<std::uint64_t, std::uint32_t> attempts; ///< runs handed out per job
  std::set<std::uint64_t> sealed;          ///< following jobs whose acquisition is complete
  bool paused = false;                     ///< stop-queue in effect
  bool shutting_down = false;              ///< shutdown received: nothing starts
  std::uint64_t next_id = 1;
  std::vector<status_sink_actor> watchers; ///< subscribe'd sinks (monitored)
  std::chrono::steady_clock::time_point last_saved;
  std::string last_save_error;             ///< logged once until a save works
  std::vector<caf::typed_response_promise<std::vector<job_summary>>> waiters;
  std::multimap<std::uint64_t, caf::typed_response_promise<job_record>> stop_waiters;
  std::vector<caf::typed_response_promise<queue_listing>> idle_waiters; ///< stop_all, shutdown
};

/// The queue: see queue_actor in interfaces.hpp. It spawns (linked) the
/// reader, the exporter and `cfg.workers` segment workers on their own
/// threads, subscribes itself to `hub`, and starts from `cfg.initial`.
queue_actor::behavior_type queue(queue_actor::stateful_pointer<queue_state> self,
                                 queue_config cfg, status_hub_actor hub,
                                 lock_manager_actor locks);

/// The first problem with the queue's settings, or none: the hub and the
/// lock manager are set, no more in-process workers than the reader cuts
/// work for, the reader's settings (see validate(const reader_config&)).
caf::error validate(const queue_config& cfg, const status_hub_actor& hub,
                    const lock_manager_actor& locks);

/// Validates `cfg` and spawns the queue (and with it the pipeline).
caf::expected<queue_actor> spawn_queue(caf::actor_system& sys, const queue_config& cfg,
                                       status_hub_actor hub, lock_manager_actor locks);

} // namespace seg
