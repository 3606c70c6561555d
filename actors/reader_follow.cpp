// The reader's part of following an acquisition still being written
// (pipeline.follow, PlanktoScope issue 892: segment frame n while frame n+1
// is acquired). A followed job's frames are those the imager's
// integrity.check lists (never a half-written file); it is re-read every
// poll_period, new frames are handed out as they appear, the flat waits
// until its window's frames exist, and the job is sealed when the imager
// says Done (the queue's seal) or after pipeline.follow_idle_s without a new
// frame. Frames must appear in name order (the imager names them by time).
#include <algorithm>
#include <chrono>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/acquisition.hpp"
#include "actors/io/integrity.hpp"
#include "actors/reader_internal.hpp"
#include "kernels/flat_field.hpp"

namespace seg::detail {

namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto poll_period = std::chrono::milliseconds(200);

// The initial flat's frames exist, or no more will come.
bool flat_frames_exist(const reader_job& job) {
  return job.sealed || job.plan.frames.size() >= std::size_t(std::max(1, job.flat_frames));
}

// The job has been run: its frames go to the hand-out, not only the plan.
bool has_run(const reader_job& job) {
  return job.current != reader_job::phase::opened || job.flat_deferred;
}

void tell_exporter(reader_ptr self, const reader_job& job) {
  self->send(self->state.cfg.exporter, atom::follow::value, job.plan.id,
             std::uint32_t(job.plan.frames.size()), job.sealed);
}

// Adds the frames of `listed` the job does not know yet. Returns false
// (and fails the job) if one sorts before a frame already known: frame
// indices are positions in name order and cannot move.
bool add_frames(reader_ptr self, reader_job& job, const std::vector<std::string>& listed) {
  auto& plan = job.plan;
  std::set<std::string> known(plan.frames.begin(), plan.frames.end());
  std::vector<std::string> fresh;
  for (auto& f : listed)
    if (known.count(f) == 0)
      fresh.push_back(f);
  if (fresh.empty())
    return true;
  std::sort(fresh.begin(), fresh.end());
  if (!plan.frames.empty() && fresh.front() < plan.frames.back()) {
    fail_job(self, job,
             plan.acquisition + ": frame " + fresh.front() + " appeared after "
               + plan.frames.back()
               + " but sorts before it; segment the finished folder instead");
    return false;
  }
  for (auto& f : fresh) {
    auto index = std::uint32_t(plan.frames.size());
    plan.frames.push_back(f);
    if (has_run(job)) {
      job.frames.push_back(index);
      if (job.flat_recalculate)
        job.todo.push_back(index);
    }
  }
  job.last_growth = clock_type::now();
  spdlog::debug("follow_frames job={} frames={} new={}", plan.id, plan.frames.size(),
                fresh.size());
  tell_exporter(self, job);
  return true;
}

bool live(const reader_job& job) {
  return job.following && !job.sealed && job.current != reader_job::phase::stopped;
}

} // namespace

bool begin_flat_when_ready(reader_ptr self, reader_job& job) {
  if (!job.following || job.flat_from)
    return true; // a recalculated flat takes the frames known now
  if (!flat_frames_exist(job)) {
    if (!job.flat_deferred)
      spdlog::info("follow_flat_waits job={} frames={} needed={}", job.plan.id,
                   job.plan.frames.size(), job.flat_frames);
    job.flat_deferred = true;
    schedule_poll(self);
    return false;
  }
  job.flat_deferred = false;
  if (job.plan.frames.empty()) {
    fail_job(self, job, job.plan.acquisition + ": no frames (integrity.check lists none)");
    return false;
  }
  job.plan.flat_frames.clear();
  for (auto i : kernels::initial_flat_indices(job.plan.frames.size(),
                                              std::size_t(job.flat_frames)))
    job.plan.flat_frames.push_back(std::uint32_t(i));
  return true;
}

void schedule_poll(reader_ptr self) {
  if (self->state.poll_scheduled)
    return;
  self->state.poll_scheduled = true;
  self->delayed_send(self, poll_period, atom::poll::value);
}

void poll_followed(reader_ptr self) {
  bool again = false;
  for (auto& job : self->state.jobs) {
    if (!live(job))
      continue;
    try {
      if (!add_frames(self, job, io::integrity_frames(job.plan.acquisition)))
        continue;
    } catch (const std::exception& e) {
      spdlog::warn("follow_read_failed job={} error=\"{}\"", job.plan.id, e.what());
    }
    if (job.flat_deferred && flat_frames_exist(job))
      begin_flat(self, job);
    auto idle = std::chrono::duration<double>(clock_type::now() - job.last_growth).count();
    if (live(job) && idle > job.follow_idle_s) {
      spdlog::info("follow_idle job={} idle_s={:.1f}", job.plan.id, idle);
      seal_job(self, job);
    }
    again = again || live(job);
  }
  serve_waiting(self);
  if (again)
    schedule_poll(self);
}

void seal_job(reader_ptr self, reader_job& job) {
  if (!live(job))
    return;
  try {
    // The acquisition is over, so every frame on disk is whole: those
    // integrity.check did not list count too, as for the finished folder.
    if (!add_frames(self, job, io::integrity_frames(job.plan.acquisition))
        || !add_frames(self, job, io::list_frames(job.plan.acquisition)))
      return;
  } catch (const std::exception& e) {
    return fail_job(self, job, e.what());
  }
  job.sealed = true;
  spdlog::info("follow_sealed job={} frames={}", job.plan.id, job.plan.frames.size());
  tell_exporter(self, job);
  if (job.flat_deferred)
    begin_flat(self, job);
  if (job.current == reader_job::phase::frames)
    notify_if_drained(self, job);
  serve_waiting(self);
}

} // namespace seg::detail
