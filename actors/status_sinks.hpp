#pragma once

// Status sinks: subscribers of the status hub that print events. The text
// comes from actors/status_format.hpp.
//
// To see every event before exiting, stop the hub first and wait for it
// (it forwards what it has received before handling the exit), then stop
// the sinks.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "actors/status_format.hpp"

namespace seg {

/// Settings of the terminal progress sink.
struct progress_sink_config {
  /// Where lines go (not owned).
  std::FILE* out = stderr;
  /// Rewrite one progress line with '\r'; unset = isatty(fileno(out)).
  std::optional<bool> tty;
  /// Without a TTY, at most one progress line per interval and job; a job's
  /// first and last frame are always shown.
  std::chrono::milliseconds min_interval{1000};
};

/// State of the terminal progress sink.
struct progress_sink_state {
  /// Settings as given.
  progress_sink_config cfg;
  /// Whether `cfg.out` is treated as a terminal.
  bool tty = false;
  /// True while a '\r' progress line is on screen without its '\n'.
  bool line_open = false;
  /// The progress line last shown (TTY), redrawn after event lines.
  std::string last_progress;
  /// When each job's last progress line was printed (no TTY).
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> last_print;
  /// Per-job counts, from job_started to job_finished.
  std::map<std::uint64_t, progress_counts> jobs;

  static inline const char* name = "progress-sink";
};

/// Prints progress for a terminal: per frame, the progress line of
/// format_progress_line (on a TTY one line rewritten with '\r', otherwise a
/// plain line at most every `min_interval`); for the other events the lines
/// of format_event_line. Flushes after every write.
status_sink_actor::behavior_type
progress_sink(status_sink_actor::stateful_pointer<progress_sink_state> self,
              progress_sink_config cfg);

/// Spawns a progress sink and subscribes it to `hub` (unless `hub` is null).
status_sink_actor spawn_progress_sink(caf::actor_system& sys,
                                      const status_hub_actor& hub,
                                      const progress_sink_config& cfg = {});

/// State of the JSON-lines sink.
struct json_sink_state {
  std::FILE* out = stdout; ///< not owned

  static inline const char* name = "json-sink";
};

/// Prints every event as one format_json_line line on `out`, flushed per
/// line (`--status-json`).
status_sink_actor::behavior_type
json_sink(status_sink_actor::stateful_pointer<json_sink_state> self, std::FILE* out);

/// Spawns a JSON-lines sink and subscribes it to `hub` (unless `hub` is null).
status_sink_actor spawn_json_sink(caf::actor_system& sys, const status_hub_actor& hub,
                                  std::FILE* out = stdout);

/// State of the reference-status sink.
struct reference_sink_state {
  std::FILE* out = stdout; ///< not owned

  static inline const char* name = "reference-sink";
};

/// Prints the reference segmenter's status strings (format_reference_status)
/// as JSON lines on `out`, flushed per line, for tools that parse them. Note
/// "Segmenting image" comes after each frame rather than before it, and
/// "Done"/"Interrupted"/exception lines come per job, not per run.
status_sink_actor::behavior_type
reference_sink(status_sink_actor::stateful_pointer<reference_sink_state> self,
               std::FILE* out);

/// Spawns a reference-status sink and subscribes it to `hub` (unless `hub`
/// is null).
status_sink_actor spawn_reference_sink(caf::actor_system& sys,
                                       const status_hub_actor& hub,
                                       std::FILE* out = stdout);

} // namespace seg
