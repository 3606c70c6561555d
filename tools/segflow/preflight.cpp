#include "tools/segflow/preflight.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <sys/stat.h>
#include <sys/statvfs.h>

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

std::uint64_t frame_pixels_bytes(const preflight_job& j) {
  return std::uint64_t(std::max<std::int64_t>(j.width, 0))
         * std::uint64_t(std::max<std::int64_t>(j.height, 0)) * 3;
}

// Frames a job keeps in shared memory besides the flat: its stack, or its
// tiled frames in flight.
std::uint64_t frames_in_shm(const preflight_job& j) {
  return j.tiled ? j.frames_in_flight : j.flat_frames;
}

// The decoded pixels a worker holds at once: a frame, or one tile.
double worker_bytes(const preflight_job& j) {
  if (j.tiled)
    return double(std::max<std::int64_t>(j.tile_width, 0))
           * double(std::max<std::int64_t>(j.tile_height, 0)) * 3;
  return double(frame_pixels_bytes(j));
}

std::uint64_t memory_for(const preflight_job& j, std::uint32_t workers, double factor) {
  auto frame = double(frame_pixels_bytes(j));
  return std::uint64_t(double(workers) * worker_bytes(j) * factor
                       + double(frames_in_shm(j) + 1) * frame);
}

// The shm segments of a job: the flat stack (or the tiled frames in flight)
// and the flat, each with a page of header (shm/image_segment.cpp).
std::uint64_t shm_for(const preflight_job& j) {
  return (frames_in_shm(j) + 1) * frame_pixels_bytes(j) + 2 * 4096;
}

// What a job keeps in shared memory, in words.
std::string shm_contents(const preflight_job& j) {
  if (j.tiled)
    return std::to_string(j.frames_in_flight) + " tiled frame(s) in flight and the flat";
  return "a flat stack of " + std::to_string(j.flat_frames) + " frames and the flat";
}

// The shared-memory estimate and, if it does not fit, the problem with the
// numbers and the fixes.
void check_shm(const preflight_job& largest, preflight_report& r) {
  std::ostringstream est;
  est << "shared memory: about " << format_bytes(r.shm_needed) << " in /dev/shm ("
      << shm_contents(largest) << ", " << largest.width << "x"
      << largest.height << "x3 bytes each)";
  if (r.shm_available)
    est << ", " << format_bytes(*r.shm_available) << " free";
  r.estimates.push_back(est.str());
  if (!r.shm_available || r.shm_needed <= *r.shm_available)
    return;
  std::ostringstream p;
  auto frame = frame_pixels_bytes(largest);
  p << "not enough shared memory: " << largest.name << " needs about "
    << format_bytes(r.shm_needed) << " in /dev/shm while the flat field is computed ("
    << (frames_in_shm(largest) + 1) << " frames of " << largest.width << "x" << largest.height
    << "x3 bytes), only " << format_bytes(*r.shm_available)
    << " is free. Give /dev/shm more room (docker run --shm-size="
    << ((r.shm_needed >> 20) / 64 + 1) * 64 << "m, or mount -o remount,size=... /dev/shm)";
  auto fit = frame > 0 ? *r.shm_available / frame : 0;
  if (fit >= 3 && !largest.tiled)
    p << ", use a smaller flat stack (--set segmentation.flat_frames=" << (fit - 1)
      << " fits)";
  p << ", or pass --force-run to start anyway (the job then fails cleanly).";
  r.problems.push_back(p.str());
}

std::uint64_t disk_for(const preflight_job& j, const preflight_settings& s) {
  return std::uint64_t(2.0 * s.crop_fraction * double(j.frame_bytes))
         + s.record_bytes_per_frame * j.frames;
}

} // namespace

std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

preflight_report check_preflight(const std::vector<preflight_job>& jobs,
                                 const preflight_settings& s,
                                 std::optional<std::uint64_t> memory_available,
                                 std::optional<std::uint64_t> shm_available) {
  preflight_report r;
  r.memory_available = memory_available;
  r.shm_available = shm_available;
  const preflight_job* largest_shm = nullptr;
  for (auto& j : jobs)
    if (frame_pixels_bytes(j) > 0 && (largest_shm == nullptr || shm_for(j) > r.shm_needed)) {
      r.shm_needed = shm_for(j);
      largest_shm = &j;
    }
  if (largest_shm != nullptr)
    check_shm(*largest_shm, r);
  auto workers = std::max<std::uint32_t>(1, s.workers);

  const preflight_job* largest = nullptr;
  for (auto& j : jobs) {
    auto need = memory_for(j, workers, s.memory_factor);
    if (largest == nullptr || need > r.memory_needed) {
      r.memory_needed = need;
      largest = &j;
    }
  }
  if (largest != nullptr && r.memory_needed > 0) {
    std::ostringstream est;
    auto held = largest->tiled ? std::to_string(largest->tile_width) + "x"
                                   + std::to_string(largest->tile_height) + " tiles"
                               : std::to_string(largest->width) + "x"
                                   + std::to_string(largest->height) + " frames";
    est << "memory: about " << format_bytes(r.memory_needed) << " (" << workers
        << " worker(s) x " << held << " x " << s.memory_factor << " + "
        << shm_contents(*largest) << ")";
    if (memory_available)
      est << ", " << format_bytes(*memory_available) << " available";
    r.estimates.push_back(est.str());
    if (memory_available && r.memory_needed > *memory_available) {
      std::ostringstream p;
      p << "not enough memory: " << largest->name << " needs about "
        << format_bytes(r.memory_needed) << " (" << workers << " worker(s) x "
        << held << " x3 bytes x " << s.memory_factor
        << " + " << (frames_in_shm(*largest) + 1) << " frames in shared memory), only "
        << format_bytes(*memory_available) << " is available. ";
      auto frame = double(frame_pixels_bytes(*largest));
      auto fixed = double(frames_in_shm(*largest) + 1) * frame;
      auto per_worker = worker_bytes(*largest);
      auto fit = per_worker > 0 ? std::floor((double(*memory_available) - fixed)
                                             / (per_worker * s.memory_factor))
                           : 0.0;
      if (fit >= 1 && fit < workers)
        p << "Use fewer workers (--workers " << std::uint64_t(fit) << " fits) or ";
      else
        p << "Frames this large do not fit even with one worker; free memory or ";
      p << "pass --force-run to start anyway.";
      r.problems.push_back(p.str());
    }
  }

  // Jobs writing to one device share its free space.
  struct device_use {
    output_space space;
    std::uint64_t need = 0;
    std::uint64_t frames = 0;
  };
  std::map<std::uint64_t, device_use> devices;
  for (auto& j : jobs) {
    if (!j.space)
      continue;
    auto& d = devices[j.space->device];
    if (d.need == 0 && d.frames == 0)
      d.space = *j.space;
    d.need += disk_for(j, s);
    d.frames += j.frames;
  }
  for (auto& [dev, d] : devices) {
    auto need = d.need + s.disk_margin;
    std::ostringstream est;
    est << "disk: about " << format_bytes(need) << " for the outputs of " << d.frames
        << " frames on " << d.space.measured.string() << ", "
        << format_bytes(d.space.free_bytes) << " free";
    r.estimates.push_back(est.str());
    if (need > d.space.free_bytes) {
      std::ostringstream p;
      p << "not enough disk space: the outputs of " << d.frames << " frames need about "
        << format_bytes(need) << " (crops, their copy in the EcoTaxa archive, records and "
        << format_bytes(s.disk_margin) << " kept free) on " << d.space.measured.string()
        << ", only " << format_bytes(d.space.free_bytes)
        << " is free. Free some space, segment fewer acquisitions at once, or pass "
           "--force-run to start anyway (a disk that fills up fails the job cleanly).";
      r.problems.push_back(p.str());
    }
  }
  return r;
}

std::optional<std::uint64_t> memory_available(const fs::path& meminfo) {
  std::ifstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0)
      continue;
    std::istringstream is(line.substr(13));
    std::uint64_t kb = 0;
    std::string unit;
    if (!(is >> kb))
      return std::nullopt;
    is >> unit;
    return unit == "kB" || unit.empty() ? kb * 1024 : kb;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> shm_available(const fs::path& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0)
    return std::nullopt;
  return std::uint64_t(vfs.f_bavail) * std::uint64_t(vfs.f_frsize);
}

std::optional<output_space> output_space_of(const fs::path& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec);
  if (ec)
    return std::nullopt;
  while (!fs::exists(p, ec)) {
    if (!p.has_parent_path() || p.parent_path() == p)
      return std::nullopt;
    p = p.parent_path();
  }
  struct statvfs vfs {};
  struct stat st {};
  if (::statvfs(p.c_str(), &vfs) != 0 || ::stat(p.c_str(), &st) != 0)
    return std::nullopt;
  output_space out;
  out.device = std::uint64_t(st.st_dev);
  out.free_bytes = std::uint64_t(vfs.f_bavail) * std::uint64_t(vfs.f_frsize);
  out.measured = p;
  return out;
}

} // namespace seg::cli
