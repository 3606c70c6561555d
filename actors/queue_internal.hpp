#pragma once

// What the queue's three translation units share: queue.cpp (the behaviour,
// its config and spawning), queue_jobs.cpp (the job list: lookups, views,
// the saved file, and the commands that change the list) and queue_run.cpp
// (running jobs: preparing, starting, ending and stopping them). Included by
// those three only.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/make_message.hpp> // before result.hpp, which uses it
#include <caf/result.hpp>

#include "actors/queue.hpp"

namespace seg::detail {

using queue_ptr = queue_actor::stateful_pointer<queue_state>;
using clock_type = std::chrono::steady_clock;

/// Every request the queue makes has this timeout.
constexpr auto request_timeout = std::chrono::seconds(60);

/// Progress counters are saved at most this often (state changes always).
constexpr auto progress_save_interval = std::chrono::seconds(1);

// -- queue_jobs.cpp -----------------------------------------------------------

/// The text an actor put into an error, or CAF's rendering of it.
std::string error_text(queue_ptr self, const caf::error& err);

/// The error of a request naming a job the queue does not have.
caf::error no_such_job(std::uint64_t id);

std::int64_t unix_ms_now();
double seconds_since(clock_type::time_point t);
job_state state_of(const job_record& j);

/// The job `id`, or nullptr.
job_record* find_job(queue_ptr self, std::uint64_t id);

/// `path` made canonical where it exists: the key of "already queued".
std::string canonical_key(const std::string& path);

/// The running or the next run with id `run`, or nullptr.
run_slot* slot_of(queue_ptr self, std::uint64_t run);
bool is_current(queue_ptr self, const run_slot* s);

/// Every job as replies show it (positions of pending jobs, live times).
queue_listing listing(queue_ptr self);
job_record record_view(queue_ptr self, std::uint64_t id);
std::vector<job_summary> summaries(queue_ptr self);

/// Writes the queue file (if any); a failure is logged once and retried at
/// the next save.
void save(queue_ptr self);

/// The commands of queue_control_actor that change the list.
caf::result<std::vector<std::uint64_t>> add_checked(queue_ptr self,
                                                    std::vector<job_spec>& specs);
caf::result<queue_listing> move_job(queue_ptr self, std::uint64_t id, std::uint32_t position);
caf::result<job_record> remove_job(queue_ptr self, std::uint64_t id);
caf::result<job_record> stop_job(queue_ptr self, std::uint64_t id);

/// Interrupts every pending job and stops the running one.
void stop_everything(queue_ptr self);

// -- queue_run.cpp ------------------------------------------------------------

/// Tells the status hub that run `run` ended with `s`.
void publish_finished(queue_ptr self, std::uint64_t run, const job_summary& s);

/// Answers `wait` once nothing runs and nothing is pending.
void deliver_waiters_if_idle(queue_ptr self);

/// Records the exporter's summary of run `run` and ends it.
void set_outcome(queue_ptr self, std::uint64_t run, job_summary summary);

/// Starts the next job if nothing runs.
void start_next(queue_ptr self);

/// Prepares the next job while the running one drains.
void maybe_prepare_next(queue_ptr self);

/// Drops a prepared next job that is no longer the one to run next.
void revise_next(queue_ptr self);

/// After any change of the list: save, start or revise, answer waiters.
void after_change(queue_ptr self);

/// Stops the running job (at once while it is prepared, else through the
/// exporter, which answers finished(interrupted)).
void stop_current(queue_ptr self);

} // namespace seg::detail
