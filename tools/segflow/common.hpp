#pragma once

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/io/trace_file.hpp"
#include "config/settings.hpp"
#include "tools/segflow/args.hpp"

namespace seg::cli {

/// Options every settings-reading subcommand accepts.
struct settings_options {
  std::string config_file;             ///< --config FILE (else SEGFLOW_CONFIG)
  std::string profile;                 ///< --profile NAME
  std::vector<std::string> sets;       ///< --set section.key=value
  bool verbose = false;                ///< -v: log level debug
  bool quiet = false;                  ///< -q: log level warn
  bool log_json = false;               ///< --log-json

  /// Declares the options on a parser.
  void declare(arg_parser& parser);
};

/// Loads settings from defaults < file < environment < command line. Prints
/// the problem and returns false on a configuration error.
bool load_settings(const settings_options& opts, config::settings& out,
                   const std::vector<std::pair<std::string, std::string>>& extra = {});

/// The sources load_settings reads (for resolving each job's settings
/// again with its own overrides). Call after load_settings succeeded.
config::sources settings_sources(const settings_options& opts,
                                 const std::vector<std::pair<std::string, std::string>>& extra = {});

/// Loads the settings and their sources (with `--workers` when > 0) into a
/// run's `settings`/`sources` and sets up logging; prints the problem and
/// returns false on a configuration error.
bool load_run_settings(const settings_options& opts, std::int64_t workers,
                       config::settings& settings, config::sources& sources);

/// A trace header for a run of `command` with the `effective` settings:
/// version, host, profile, settings, creation time; inputs and data root
/// are the caller's.
io::trace_header new_trace_header(const config::settings& effective,
                                  const std::string& command, bool embed_bytes);

/// Sets up the process's spdlog logger from the settings.
void setup_logging(const config::settings& s);

/// Readies SIGINT and SIGTERM to be taken by one thread (sigwait,
/// sigtimedwait): restores their default action (a shell starts background
/// commands with SIGINT ignored, and an ignored signal is discarded even
/// while blocked) and blocks them in the calling thread, so every thread
/// started later (CAF's included) blocks them too. Returns the set.
sigset_t take_stop_signals();

/// This process's peak resident set size in MB (VmHWM), or -1 if unknown.
double peak_rss_mb();

} // namespace seg::cli
