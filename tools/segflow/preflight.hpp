#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// Before a run starts: will it fit in memory, will its outputs fit on disk?
// The estimates are pure functions of what is measured, so tests can feed
// them any machine.
namespace seg::cli {

/// Free space of the filesystem outputs go to.
struct output_space {
  std::uint64_t device = 0;        ///< st_dev: jobs on one device share its space
  std::uint64_t free_bytes = 0;    ///< bytes available to unprivileged users
  std::filesystem::path measured;  ///< the existing folder that was measured
};

/// One acquisition to segment, as measured before the run.
struct preflight_job {
  std::string name;                ///< for messages (the acquisition folder)
  std::int64_t width = 0;          ///< frame size, px (0 = unknown: no memory estimate)
  std::int64_t height = 0;
  std::uint64_t frames = 0;        ///< frames to segment
  std::uint64_t frame_bytes = 0;   ///< JPEG bytes of those frames, in total
  std::uint64_t flat_frames = 0;   ///< frames in the flat-field stack
  /// Tiled frames (tiling.*): no flat stack (the flat is streamed), the
  /// frames in flight in shared memory, each worker holding one tile.
  bool tiled = false;
  std::int64_t tile_width = 0;     ///< a tile's extent (core and halo), px
  std::int64_t tile_height = 0;
  std::uint64_t frames_in_flight = 0; ///< config::tiled_frames_in_flight
  std::optional<output_space> space; ///< where its outputs go (unknown: no disk check)
};

/// The estimate's factors.
struct preflight_settings {
  std::uint32_t workers = 1;
  /// Bytes a worker holds per byte of decoded frame (frame, corrected frame,
  /// mask, labels, intermediates).
  double memory_factor = 6;
  /// Crop JPEG bytes per frame JPEG byte: 4.8 % on the dense composed dev-a
  /// (27 objects per frame); twice that leaves room for crowded frames.
  double crop_fraction = 0.10;
  /// Per-frame JSONL record and TSV rows: 27 KiB per frame on dev-a.
  std::uint64_t record_bytes_per_frame = 64 * 1024;
  std::uint64_t disk_margin = 64ull << 20;          ///< kept free on each output device
};

/// The outcome: estimates, and the reasons to refuse (empty = go).
struct preflight_report {
  std::uint64_t memory_needed = 0;               ///< bytes, the largest job's
  std::optional<std::uint64_t> memory_available;
  std::uint64_t shm_needed = 0;                  ///< bytes of /dev/shm, the largest job's
  std::optional<std::uint64_t> shm_available;
  std::vector<std::string> estimates;            ///< one line per estimate, with numbers
  std::vector<std::string> problems;             ///< each with the numbers and the fix
};

/// Memory: workers × frame bytes (W×H×3) × memory_factor + (flat_frames + 1)
/// × frame bytes (the flat stack and the flat); for tiled frames workers ×
/// tile bytes × memory_factor + (frames_in_flight + 1) × frame bytes (the
/// frames in shared memory and the flat), for the largest job (jobs run
/// one after the other). Disk, per output device, summed over its jobs:
/// 2 × crop_fraction × frame JPEG bytes (the crops and their copy in the
/// EcoTaxa zip) + record_bytes_per_frame × frames, plus disk_margin.
/// Shared memory (/dev/shm), for the largest job: the flat stack and the flat,
/// (flat_frames + 1) x frame bytes, which live there while the flat is
/// computed; tiled: the flat and the frames in flight. A problem is reported when an estimate exceeds what is
/// available; unknown availability is not a problem.
preflight_report check_preflight(const std::vector<preflight_job>& jobs,
                                 const preflight_settings& settings,
                                 std::optional<std::uint64_t> memory_available,
                                 std::optional<std::uint64_t> shm_available = std::nullopt);

/// Bytes free in the shared-memory filesystem (statvfs of `dir`); nullopt if
/// it cannot be measured.
std::optional<std::uint64_t> shm_available(const std::filesystem::path& dir = "/dev/shm");

/// MemAvailable of a /proc/meminfo-format file, in bytes; nullopt if absent.
std::optional<std::uint64_t> memory_available(
  const std::filesystem::path& meminfo = "/proc/meminfo");

/// statvfs of `dir`, or of its nearest existing ancestor when it does not
/// exist yet; nullopt if nothing can be measured.
std::optional<output_space> output_space_of(const std::filesystem::path& dir);

/// "1.5 GiB", "320 MiB", "12 KiB", "100 B".
std::string format_bytes(std::uint64_t bytes);

} // namespace seg::cli
