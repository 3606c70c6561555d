#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace seg::cli::bench {

/// A child process started by spawn_process.
struct child_process {
  pid_t pid = -1;
};

/// How a child ended and what it used, from wait4().
struct child_exit {
  int exit_code = -1;       ///< exit status if it exited, else -1
  int signal = 0;           ///< the signal that killed it, else 0
  double cpu_s = 0;         ///< user + system CPU time, s
  double system_s = 0;      ///< system CPU time alone, s
  long minor_faults = 0;    ///< ru_minflt: pages touched for the first time, etc.
  /// Sampled by wait_process_sampling, else 0: the largest RssAnon + RssFile
  /// of /proc/<pid>/status plus the child's shared-memory segments
  /// (/dev/shm/segflow-<pid>-*, mapped or not), KiB. ru_maxrss misses the
  /// segments the child has unmapped but not removed.
  long peak_footprint_kb = 0;
  long peak_shm_kb = 0;     ///< the largest total of those segments alone, KiB
  long peak_rss_kb = 0;     ///< ru_maxrss, KiB
};

/// Starts `args[0]` with `args` (execv, no PATH search), stdin from
/// /dev/null, stdout and stderr to the given files (truncated).
/// @throws std::runtime_error if fork fails; a failed exec exits with 127.
child_process spawn_process(const std::vector<std::string>& args,
                            const std::filesystem::path& stdout_file,
                            const std::filesystem::path& stderr_file);

/// Waits for the child to end.
child_exit wait_process(child_process& child);

/// Waits for the child to end, sampling its memory every `interval_ms`
/// (fills peak_footprint_kb and peak_shm_kb).
child_exit wait_process_sampling(child_process& child, int interval_ms);

/// The child's end if it has already ended, else nullopt (does not block).
std::optional<child_exit> poll_process(child_process& child);

/// "exit code N" or "signal N".
std::string describe(const child_exit& e);

/// Runs `args` to the end with output to the given files.
child_exit run_process(const std::vector<std::string>& args,
                       const std::filesystem::path& stdout_file,
                       const std::filesystem::path& stderr_file);

/// This executable's path (/proc/self/exe resolved).
std::string self_exe();

} // namespace seg::cli::bench
