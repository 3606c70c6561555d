// The reader's supervision of its workers: what a lost worker held goes
// out again (or fails when lost twice), an item held past
// pipeline.frame_timeout_s fails and its worker is restarted. The ledger
// (work_ledger.hpp) keeps the books; this file sends what they decide.

#include "actors/reader_internal.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/segment_worker.hpp"
#include "actors/trace.hpp"

namespace seg::detail {

namespace {

using clock_type = std::chrono::steady_clock;

// How often held items are checked against the time limit: a tenth of it,
// between 50 ms and 1 s.
std::chrono::milliseconds tick_period(const reader_config& cfg) {
  auto ms = std::int64_t(cfg.frame_timeout_s * 100);
  return std::chrono::milliseconds(std::clamp<std::int64_t>(ms, 50, 1000));
}

// Tells the exporter that a worker's frame failed (lost twice, overran).
void fail_frame(reader_ptr self, const reader_job& job, const held_item& h, std::string why) {
  frame_result r;
  r.job_id = h.job_id;
  r.generation = h.generation;
  r.kind = h.kind;
  r.index = h.index;
  r.name = job.plan.frames[h.index];
  r.ok = false;
  r.error = std::move(why);
  self->send(self->state.cfg.exporter, std::move(r));
}

// Restarts worker `who`, whose item overran the time limit: an in-process
// worker cannot be interrupted mid-step, so a replacement takes its place
// and the old one quits at its next pull; a worker process is told to exit
// (its supervisor, usually serve, starts it again).
void restart_worker(reader_ptr self, const caf::actor_addr& who, const std::string& why) {
  auto& st = self->state;
  if (who.node() == self->node()) {
    auto me = caf::actor_cast<reader_actor>(self);
    auto w = spawn_segment_worker<caf::detached + caf::linked>(*self, me, st.cfg.exporter);
    if (!w) {
      spdlog::error("worker_not_replaced error=\"{}\" reason=\"{}\"",
                    self->system().render(w.error()), why);
      return;
    }
    st.replacements.push_back(*w);
    spdlog::warn("worker_replaced reason=\"{}\"", why);
    return;
  }
  auto it = st.supervisors.find(who.node());
  if (it == st.supervisors.end()) {
    spdlog::error("worker_overran node={} reason=\"{}\" (no supervisor joined for it: it "
                  "cannot be restarted from here)",
                  to_string(who.node()), why);
    return;
  }
  caf::anon_send(it->second, atom::abandon::value, why);
}

} // namespace

void schedule_tick(reader_ptr self) {
  auto& st = self->state;
  if (st.tick_scheduled || st.cfg.frame_timeout_s <= 0)
    return;
  st.tick_scheduled = true;
  self->delayed_send(self, tick_period(st.cfg), atom::tick::value);
}

void worker_lost(reader_ptr self, const caf::actor_addr& who, const caf::error& reason) {
  auto& st = self->state;
  auto held = st.ledger.lost(who);
  drop_waiting(self, who);
  if (!held)
    return;
  auto h = *held;
  auto* job = find_job(self, h.job_id);
  if (job == nullptr || job->generation != h.generation)
    return; // stopped or failed meanwhile
  // The loss is an input of the run: replay re-drives it from this note
  // (a tile's names its tile; other items' notes are as before tiles).
  std::vector<std::int64_t> lost{std::int64_t(h.job_id), std::uint8_t(h.kind), h.index,
                                 h.row_begin};
  if (h.kind == work_kind::tile)
    lost.push_back(h.tile);
  trace::note(self, "worker_lost", lost);
  auto kind = h.kind;
  bool again = st.ledger.lost_before(h);
  auto why = self->system().render(reason);
  if ((kind == work_kind::tile_read || kind == work_kind::tile)
      && job->current == reader_job::phase::frames) {
    auto what = kind == work_kind::tile ? "tile " + std::to_string(h.tile) + " of " : "";
    spdlog::warn("worker_lost job={} frame={} tile={} action={} reason=\"{}\"", h.job_id,
                 job->plan.frames[h.index], h.tile, again ? "fail" : "requeue", why);
    tiled_item_lost(self, *job, h, !again,
                    "worker lost twice while segmenting " + what
                      + frame_path(job->plan, h.index));
  } else if (kind == work_kind::segment && job->current == reader_job::phase::frames) {
    auto& name = job->plan.frames[h.index];
    if (!again) {
      spdlog::warn("worker_lost job={} frame={} action=requeue reason=\"{}\"", h.job_id,
                   name, why);
      // Ahead of the frames already read, so it is the very next one out.
      job->read_ahead.push_front(frame_item(*job, h.index));
    } else {
      spdlog::error("worker_lost job={} frame={} action=fail reason=\"{}\"", h.job_id, name,
                    why);
      fail_frame(self, *job, h,
                 "worker lost twice while segmenting " + frame_path(job->plan, h.index));
    }
  } else if (kind == work_kind::flat_decode && job->current == reader_job::phase::flat_decode) {
    spdlog::warn("worker_lost job={} flat_slot={} action={} reason=\"{}\"", h.job_id, h.index,
                 again ? "replace" : "requeue", why);
    --job->outstanding;
    if (!again)
      job->decodes.push_front(h.index);
    else
      flat_frame_bad(*job, h.index,
                     "worker lost twice while decoding "
                       + frame_path(job->plan, job->window->frame(h.index)));
    if (job->decodes.empty() && job->outstanding == 0)
      finish_decodes(self, *job);
  } else if ((kind == work_kind::flat_band || kind == work_kind::flat_stream)
             && job->current == reader_job::phase::flat_bands) {
    spdlog::warn("worker_lost job={} flat_rows={}-{} action={} reason=\"{}\"", h.job_id,
                 h.row_begin, h.row_end, again ? "fail" : "requeue", why);
    --job->outstanding;
    if (again)
      return fail_job(self, *job, "flat field: worker lost twice while computing rows "
                                    + std::to_string(h.row_begin) + "-"
                                    + std::to_string(h.row_end));
    job->bands.emplace_front(h.row_begin, h.row_end);
  }
  serve_waiting(self);
}

// Items held longer than pipeline.frame_timeout_s are abandoned: a frame
// fails (not retried: it would most likely overrun again), a flat step
// fails the job (a late worker could still write into the shared stack),
// and the worker is restarted.
void abandon_overdue(reader_ptr self) {
  auto& st = self->state;
  auto limit = std::chrono::duration<double>(st.cfg.frame_timeout_s);
  auto overdue = st.ledger.take_overdue(clock_type::now(), limit);
  for (auto& [who, h] : overdue) {
    auto* job = find_job(self, h.job_id);
    auto seconds = fmt::format("{:g}", st.cfg.frame_timeout_s);
    if (job == nullptr || job->generation != h.generation) {
      restart_worker(self, who, "overran pipeline.frame_timeout_s = " + seconds
                                  + " s on a stopped job");
      continue;
    }
    auto kind = h.kind;
    std::string what;
    if (kind == work_kind::segment || kind == work_kind::tile_read)
      what = "segmenting " + frame_path(job->plan, h.index);
    else if (kind == work_kind::tile)
      what = "segmenting tile " + std::to_string(h.tile) + " of "
             + frame_path(job->plan, h.index);
    else if (kind == work_kind::flat_decode)
      what = "decoding flat frame " + frame_path(job->plan, job->window->frame(h.index));
    else
      what = "computing flat rows " + std::to_string(h.row_begin) + "-"
             + std::to_string(h.row_end);
    auto why = "still " + what + " after pipeline.frame_timeout_s = " + seconds
               + " s; abandoned, its worker restarted";
    bool frame_work = kind == work_kind::segment || kind == work_kind::tile_read
                      || kind == work_kind::tile;
    spdlog::error("frame_timeout job={} {} seconds={}", h.job_id,
                  frame_work ? "frame=" + job->plan.frames[h.index]
                             : "flat_step=" + std::to_string(h.index),
                  seconds);
    restart_worker(self, who, why);
    if (kind == work_kind::tile_read || kind == work_kind::tile) {
      tiled_item_lost(self, *job, h, false, why);
    } else if (kind == work_kind::segment) {
      fail_frame(self, *job, h, why);
    } else {
      fail_job(self, *job, "flat field: " + why);
    }
  }
  serve_waiting(self);
}

} // namespace seg::detail
