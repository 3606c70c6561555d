#pragma once

// The queue file of `segflow serve`: the queue and every job's state, so a
// restarted serve (even after kill -9) lists finished jobs as before, resumes
// the job that was running and keeps the pending jobs' order.
//
// <state dir>/queue.json, written atomically on every change:
//   {"format": "segflow-queue", "version": 1, "paused": false, "next_id": 4,
//    "jobs": [{"id": 1, "path": "/d/img/a", "force": false, "overrides": [],
//              "state": "done", "position": 0, "frames_done": 40,
//              "frames_total": 40, "frames_resumed": 0, "frames_failed": 0,
//              "objects": 812, "started": "2025-09-11T16:51:00.618Z",
//              "started_unix_ms": 1757609460618, "elapsed": 6.25, "error": "",
//              "failures": [], "zip": "...", "objects_dir": "...",
//              "resume": false}, ...]}
// Jobs are in queue order. The same job object is what `segflow ctl list
// --json` and `status --json` print.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "messages/job_record.hpp"

namespace seg::io {

/// Name of the queue file inside a state directory.
inline constexpr const char* queue_file_name = "queue.json";

/// Everything the queue persists.
struct queue_snapshot {
  bool paused = false;           ///< stop-queue in effect
  std::uint64_t next_id = 1;     ///< the id the next added job gets
  std::vector<job_record> jobs;  ///< in queue order
};

/// The counts of a job summary as both job files write them (the queue
/// file and segment's --summary-json): frames_resumed, frames_failed,
/// objects, appended to `j` in that order.
void put_summary_counts(nlohmann::ordered_json& j, const job_summary& s);

/// Its outcome, likewise: error, failures, zip, objects_dir.
void put_summary_outcome(nlohmann::ordered_json& j, const job_summary& s);

/// A job as a JSON object (the fields listed at the top of this file;
/// "started" is ISO 8601 UTC with milliseconds and 'Z', or null if the job
/// never ran; "elapsed" is in seconds).
nlohmann::ordered_json job_json(const job_record& job);

/// A listing as `ctl list --json` prints it: {"paused": ..., "jobs": [job_json...]}.
nlohmann::ordered_json listing_json(const queue_listing& all);

/// The queue file's text for `q` (pretty-printed, ends with '\n'). Strings
/// that are not valid UTF-8 have the bad bytes replaced by U+FFFD.
std::string format_queue(const queue_snapshot& q);

/// Parses a queue file's text.
/// @throws io_error naming `file` for invalid JSON, another format or
///         version, or a missing or mistyped field (named).
queue_snapshot parse_queue(std::string_view text, const std::filesystem::path& file);

/// Writes `q` to `file` atomically (write_file_atomic).
/// @throws io_error naming `file`.
void save_queue(const std::filesystem::path& file, const queue_snapshot& q);

/// Reads the queue file; nullopt if `file` does not exist.
/// @throws io_error naming `file` if it cannot be read or parsed.
std::optional<queue_snapshot> load_queue(const std::filesystem::path& file);

/// Makes a loaded queue ready to run again after a restart: a job that was
/// running, or interrupted by a shutdown (resume set), becomes pending with
/// resume set, keeping its position; next_id becomes larger than every id.
void prepare_restart(queue_snapshot& q);

/// The state directory used when none is given: $XDG_STATE_HOME/segflow,
/// else $HOME/.local/state/segflow, else ./segflow-state.
std::filesystem::path default_state_dir();

/// True if `text` is valid UTF-8 (what the queue file can hold exactly).
bool is_valid_utf8(std::string_view text);

} // namespace seg::io
