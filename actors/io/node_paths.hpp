#pragma once

// Paths mode of a worker node (issue: several hosts): a node that sees a
// data root of serve's (`segflow worker --data DIR`) may read frames there
// itself instead of receiving their bytes. It is verified, not assumed:
// for each job, the node's first frame under a root arrives with its bytes
// as usual, the node reads the same path itself and compares; only when the
// two are equal does serve send that job's frames to this node as paths.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace seg::io {

class node_paths {
public:
  /// `roots`: the data roots this node sees (made absolute and normal).
  explicit node_paths(const std::vector<std::string>& roots);

  /// Whether `path` lies under one of the roots (lexically; the read itself
  /// refuses symlinks that leave the acquisition's folder).
  bool covers(const std::string& path) const;

  /// True once per job for this process: the caller checks that job.
  bool claim(std::uint64_t job_id);

  /// Counts a frame this node read itself (it came without bytes).
  void count_read() { ++reads_; }
  std::uint64_t reads() const { return reads_.load(); }

  const std::vector<std::string>& roots() const { return roots_; }

private:
  std::vector<std::string> roots_;
  std::mutex mutex_;
  std::set<std::uint64_t> claimed_;
  std::atomic<std::uint64_t> reads_{0};
};

/// Compares the file at `path` (read as read_frame_file reads it, at most
/// `max_bytes`) with `bytes`, what serve read there: "" when they are
/// equal, else the difference, naming the file ("... is 123 bytes here,
/// 456 on serve", "... differs from serve's copy", or why it could not be
/// read).
std::string compare_with_file(const std::string& path, const std::vector<std::uint8_t>& bytes,
                              std::uint64_t max_bytes);

} // namespace seg::io
