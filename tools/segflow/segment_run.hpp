#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/io/op_journal.hpp"
#include "config/settings.hpp"
#include "messages/job.hpp"

namespace seg::cli {

/// What `segment` (and `demo`) asks the pipeline to do.
struct segment_request {
  config::settings settings;         ///< resolved, for process-wide choices
  config::sources sources;           ///< to resolve each job's settings again
  std::vector<std::string> folders;  ///< acquisition folders
  bool force = false;
  bool status_json = false;
  bool reference_status = false;
  bool force_run = false;             ///< start even if the preflight refuses
  std::vector<std::string> skipped;   ///< paths skipped (--skip-missing), with why
  std::string trace_file;             ///< record every message here (--trace)
  bool trace_embed = false;           ///< embed byte payloads instead of hashes
  std::string command = "segment";    ///< recorded in the trace header
  /// The state directory of the operations journal; empty: no journal
  /// (demo, replay).
  std::string state_dir;
  /// A stuck operation whose export this run replays (ops recover).
  std::optional<io::op_record> recover;
  /// Replay: the recorded operation id of each run (see exporter_config).
  std::map<std::uint64_t, std::string> recorded_ops;
  /// Replay: send stop-all once this many frames have been reported (each
  /// point once, in order).
  std::vector<std::uint32_t> stop_after_frames;
};

/// Runs the pipeline on every folder, prints the summary and returns the
/// exit code; the summaries go to `out` when given. Unless `force_run`, a
/// preflight first estimates memory and disk and refuses (exit code 2,
/// nothing started) when they do not fit.
int segment_folders(const segment_request& req, std::vector<job_summary>* out);

/// The exit code for a set of job outcomes.
int exit_code_of(const std::vector<job_summary>& jobs);

} // namespace seg::cli
