#include "actors/queue.hpp"

#include <algorithm>
#include <cmath>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/queue_internal.hpp"
#include "actors/trace.hpp"
#include "actors/exporter.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/segment_worker.hpp"

namespace seg {

using namespace detail;

queue_actor::behavior_type queue(queue_actor::stateful_pointer<queue_state> self,
                                 queue_config cfg, status_hub_actor hub,
                                 lock_manager_actor locks) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.locks = std::move(locks);
  st.jobs.assign(cfg.initial.jobs.begin(), cfg.initial.jobs.end());
  st.paused = cfg.initial.paused;
  st.next_id = std::max<std::uint64_t>(1, cfg.initial.next_id);
  for (auto& j : st.jobs)
    st.next_id = std::max(st.next_id, j.spec.id + 1);
  st.cfg = std::move(cfg);
  auto me = caf::actor_cast<queue_actor>(self);
  // spawn_queue validated what these spawns check: a failure here is a bug.
  auto refuse = [self](const caf::error& err) -> queue_actor::behavior_type {
    spdlog::error("queue_failed error=\"{}\"", self->system().render(err));
    self->quit(err);
    return queue_actor::behavior_type::make_empty_behavior();
  };
  exporter_config ecfg;
  ecfg.state_dir = st.cfg.state_dir;
  ecfg.recover = st.cfg.recover;
  ecfg.commit_frames = st.cfg.commit_frames;
  ecfg.commit_window = st.cfg.commit_window;
  ecfg.recorded_ops = st.cfg.recorded_ops;
  auto exp = spawn_exporter<caf::linked>(*self, me, st.hub, std::move(ecfg));
  if (!exp)
    return refuse(exp.error());
  st.exporter = *exp;
  st.cfg.reader.exporter = st.exporter;
  auto rd = spawn_reader<caf::linked>(*self, st.cfg.reader, me, st.hub);
  if (!rd)
    return refuse(rd.error());
  st.reader = *rd;
  // 0 in-process workers: worker processes join (serve --worker-processes).
  for (std::uint32_t i = 0; i < st.cfg.workers; ++i) {
    auto w = spawn_segment_worker<caf::detached + caf::linked>(*self, st.reader, st.exporter);
    if (!w)
      return refuse(w.error());
    st.workers.push_back(*w);
  }
  // The queue follows progress through the hub and relays events to its own
  // subscribers with job ids.
  status_sink_actor as_sink = me;
  self->send(st.hub, atom::subscribe::value, as_sink);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& w = self->state.watchers;
    w.erase(std::remove_if(w.begin(), w.end(),
                           [&](const status_sink_actor& s) {
                             return s.address() == msg.source;
                           }),
            w.end());
    spdlog::info("watcher_left watchers={}", w.size());
  });
  if (!st.jobs.empty())
    spdlog::info("queue_restored jobs={} paused={} next_id={}", st.jobs.size(), st.paused,
                 st.next_id);
  save(self);
  start_next(self);
  return trace::traced_all(self,
    [=](atom::add, job_spec& spec) -> std::uint64_t {
      auto& st = self->state;
      auto id = st.next_id++;
      spec.id = id;
      job_record j;
      j.spec = spec;
      j.summary.id = id;
      j.summary.path = spec.path;
      j.summary.state = job_state::pending;
      st.jobs.push_back(std::move(j));
      after_change(self);
      return id;
    },
    [=](atom::add, std::vector<job_spec>& specs) { return add_checked(self, specs); },
    [=](atom::list) { return listing(self); },
    [=](atom::status, std::uint64_t id) -> caf::result<job_record> {
      if (find_job(self, id) == nullptr)
        return no_such_job(id);
      return record_view(self, id);
    },
    [=](atom::move, std::uint64_t id, std::uint32_t position) {
      return move_job(self, id, position);
    },
    [=](atom::remove, std::uint64_t id) { return remove_job(self, id); },
    [=](atom::stop, std::uint64_t id) { return stop_job(self, id); },
    [=](atom::stop_queue) {
      if (!self->state.paused)
        spdlog::info("queue_stopped running={}",
                     self->state.current ? self->state.current->job : 0);
      self->state.paused = true;
      after_change(self);
      return listing(self);
    },
    [=](atom::resume) {
      if (self->state.paused)
        spdlog::info("queue_resumed");
      self->state.paused = false;
      after_change(self);
      return listing(self);
    },
    [=](atom::stop_all) -> caf::result<queue_listing> {
      stop_everything(self);
      if (!self->state.current)
        return listing(self);
      auto rp = self->make_response_promise<queue_listing>();
      self->state.idle_waiters.push_back(rp);
      return rp;
    },
    [=](atom::wait) -> caf::result<std::vector<job_summary>> {
      auto rp = self->make_response_promise<std::vector<job_summary>>();
      self->state.waiters.push_back(rp);
      deliver_waiters_if_idle(self);
      return rp;
    },
    [=](atom::subscribe, status_sink_actor& sink) {
      auto& w = self->state.watchers;
      if (!sink)
        return false;
      if (std::find(w.begin(), w.end(), sink) == w.end()) {
        self->monitor(sink);
        w.push_back(sink);
        spdlog::info("watcher_joined watchers={}", w.size());
      }
      return true;
    },
    [=](atom::seal, std::uint64_t id) -> bool {
      auto& st = self->state;
      auto* j = find_job(self, id);
      if (j == nullptr || (job_state(j->summary.state) != job_state::pending
                           && job_state(j->summary.state) != job_state::running))
        return false;
      st.sealed.insert(id);
      spdlog::info("job_sealed job={}", id);
      // A run already begun hears it now; a later one when it begins.
      for (auto* s : {st.current ? &*st.current : nullptr, st.next ? &*st.next : nullptr})
        if (s != nullptr && s->job == id && s->began)
          self->send(st.reader, atom::seal::value, s->run);
      return true;
    },
    [=](atom::nodes) -> caf::result<node_listing> {
      auto& registry = self->state.cfg.reader.registry;
      if (!registry)
        return make_error(ec::bad_request, "this segflow keeps no node registry (serve does)");
      return self->delegate(registry, atom::list::value);
    },
    [=](atom::join) -> caf::result<reader_actor, exporter_actor> {
      spdlog::info("worker_process_joined");
      return {self->state.reader, self->state.exporter};
    },
    [=](atom::shutdown) -> caf::result<queue_listing> {
      auto& st = self->state;
      if (!st.shutting_down)
        spdlog::info("queue_shutdown running={}", st.current ? st.current->job : 0);
      st.shutting_down = true;
      revise_next(self);
      stop_current(self);
      save(self);
      if (!st.current)
        return listing(self);
      auto rp = self->make_response_promise<queue_listing>();
      st.idle_waiters.push_back(rp);
      return rp;
    },
    [=](atom::finished, job_summary& s) {
      auto run = s.id;
      set_outcome(self, run, std::move(s));
    },
    [=](atom::failed, std::uint64_t run, std::string& why) {
      auto* s = slot_of(self, run);
      if (s == nullptr)
        return;
      self->send(self->state.exporter, atom::stop::value, run, why);
    },
    [=](atom::drained, std::uint64_t run) {
      auto* s = slot_of(self, run);
      if (s == nullptr)
        return;
      s->drained = true;
      if (is_current(self, s))
        maybe_prepare_next(self);
    },
    [=](const job_event& ev) {
      auto& st = self->state;
      if (st.current && st.current->run == ev.job_id) {
        if (auto* j = find_job(self, st.current->job)) {
          auto kind = event_kind(ev.kind);
          if (kind == event_kind::frame_done || kind == event_kind::frame_failed) {
            j->summary.frames_done = ev.frames_done;
            j->summary.frames_total = ev.frames_total;
            if (kind == event_kind::frame_done)
              j->summary.objects += ev.objects;
            else
              ++j->summary.frames_failed;
            if (clock_type::now() - st.last_saved >= progress_save_interval)
              save(self);
          }
        }
      }
      if (st.watchers.empty())
        return;
      auto out = ev;
      out.job_id = job_of_run(ev.job_id);
      for (auto& w : st.watchers)
        self->send(w, out);
    });
}

queue_config make_queue_config(const config::settings& settings,
                               const config::sources& sources, std::uint32_t workers,
                               std::uint32_t in_process) {
  queue_config cfg;
  cfg.reader.base = sources;
  cfg.reader.workers = workers;
  cfg.reader.reads_ahead = std::uint32_t(settings.pipeline.reads_in_flight);
  cfg.reader.frame_timeout_s = settings.pipeline.frame_timeout_s;
  cfg.reader.decode_once = settings.pipeline.decode_once;
  cfg.reader.decode_band_rows = settings.pipeline.decode_band_rows;
  cfg.workers = in_process;
  cfg.commit_frames = std::uint32_t(settings.exports.commit_frames);
  cfg.commit_window = std::chrono::milliseconds(std::lround(settings.exports.commit_window_ms));
  return cfg;
}

caf::error validate(const queue_config& cfg, const status_hub_actor& hub,
                    const lock_manager_actor& locks) {
  if (!hub || !locks)
    return caf::make_error(caf::sec::invalid_argument,
                           "queue: the status hub and the lock manager must be set");
  if (cfg.workers > cfg.reader.workers)
    return caf::make_error(caf::sec::invalid_argument,
                           "queue: " + std::to_string(cfg.workers)
                             + " in-process workers, but the reader cuts work for "
                             + std::to_string(cfg.reader.workers));
  return validate(cfg.reader);
}

caf::expected<queue_actor> spawn_queue(caf::actor_system& sys, const queue_config& cfg,
                                       status_hub_actor hub, lock_manager_actor locks) {
  if (auto err = validate(cfg, hub, locks))
    return err;
  return sys.spawn(queue, cfg, std::move(hub), std::move(locks));
}

} // namespace seg
