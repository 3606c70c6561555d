#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <opencv2/core/mat.hpp>

namespace seg::shm {

/// Name of a job's segment: "segflow-<pid>-<job>-<generation>-<what>".
/// The pid keeps concurrent segflow processes apart and lets a later start
/// find segments whose owner is gone.
std::string segment_name(std::uint64_t job, std::uint32_t generation,
                         const std::string& what);

/// A POSIX shared-memory segment holding `count` images of one size and type
/// (the flat field, or the frames the flat is computed from). The creating
/// object owns the segment and removes it when destroyed; others map it.
class image_segment {
public:
  /// Creates the segment (mode 0600), sized for `count` images of
  /// rows x cols x `type` (an OpenCV type such as CV_8UC3). Throws
  /// std::runtime_error naming the segment on failure.
  static std::shared_ptr<image_segment> create(const std::string& name, int rows,
                                               int cols, int type, int count = 1);

  /// Maps an existing segment; read-only unless `writable`. Throws
  /// std::runtime_error if it does not exist or is not a segflow segment.
  static std::shared_ptr<image_segment> open(const std::string& name,
                                             bool writable = false);

  ~image_segment();
  image_segment(const image_segment&) = delete;
  image_segment& operator=(const image_segment&) = delete;

  /// Image `i` as a Mat over the mapping (no copy). Writing through it is
  /// only allowed on a writable mapping.
  cv::Mat image(int i = 0) const;

  /// Gives image `i`'s memory back (the whole pages within it): it reads as
  /// zeros from then on, in every process. For the owner, once no process
  /// needs the image any more.
  void discard(int i);

  const std::string& name() const {
    return name_;
  }
  int rows() const;
  int cols() const;
  int type() const;
  int count() const;

  /// Start and size of the mapping (tests check zero-copy with these).
  const void* mapping_begin() const;
  std::size_t mapping_size() const;

private:
  struct impl;
  explicit image_segment(std::unique_ptr<impl> p, std::string name, bool owner);
  std::unique_ptr<impl> impl_;
  std::string name_;
  bool owner_;
};

/// Removes segflow segments whose owning process no longer exists; returns
/// how many were removed.
std::size_t sweep_stale_segments();

/// Removes every segment created by this process (for a clean exit on a
/// signal); returns how many were removed.
std::size_t remove_own_segments();

} // namespace seg::shm
