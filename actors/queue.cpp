#include "actors/queue.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/exporter.hpp"
#include "actors/io/acquisition.hpp"
#include "actors/segment_worker.hpp"

namespace seg {

namespace {

using self_ptr = queue_actor::stateful_pointer<queue_state>;

constexpr auto request_timeout = std::chrono::seconds(60);

// The text an actor put into an error, or CAF's rendering of it.
std::string error_text(self_ptr self, const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return self->system().render(err);
}

queue_entry* find_entry(self_ptr self, std::uint64_t id) {
  for (auto& e : self->state.jobs)
    if (e.spec.id == id)
      return &e;
  return nullptr;
}

std::vector<job_summary> summaries(self_ptr self) {
  std::vector<job_summary> out;
  for (auto& e : self->state.jobs)
    out.push_back(e.summary);
  return out;
}

void notify_finished(self_ptr self, const job_summary& s) {
  job_event ev;
  ev.kind = std::uint8_t(event_kind::job_finished);
  ev.job_id = s.id;
  ev.path = s.path;
  ev.state = s.state;
  ev.frames_total = s.frames_total;
  ev.frames_done = s.frames_done;
  ev.objects = s.objects;
  ev.elapsed_s = s.seconds;
  ev.message = s.error;
  self->send(self->state.hub, ev);
}

void start_next(self_ptr self);

// Ends the running job with `summary` and moves on.
void end_running(self_ptr self, job_summary summary) {
  auto& st = self->state;
  auto id = summary.id;
  if (auto* e = find_entry(self, id))
    e->summary = summary;
  if (st.running == id) {
    st.running.reset();
    self->send(st.reader, atom::stop::value, id);
    for (auto& w : st.workers)
      self->send(w, atom::stop::value, id);
    if (st.held) {
      self->request(st.locks, request_timeout, atom::release::value, *st.held)
        .then([](bool) {},
              [=](caf::error& err) {
                spdlog::warn("lease_release_failed job={} error=\"{}\"", id,
                             error_text(self, err));
              });
      st.held.reset();
    }
  }
  spdlog::info("job_finished job={} state={} frames={}/{} failed={} objects={} s={:.2f}",
               id, to_string(job_state(summary.state)), summary.frames_done,
               summary.frames_total, summary.frames_failed, summary.objects,
               summary.seconds);
  notify_finished(self, summary);
  start_next(self);
}

void fail_before_run(self_ptr self, std::uint64_t id, const std::string& why) {
  auto* e = find_entry(self, id);
  if (e == nullptr)
    return;
  spdlog::error("job_failed job={} path={} error=\"{}\"", id, e->spec.path, why);
  job_summary s = e->summary;
  s.state = std::uint8_t(job_state::failed);
  s.error = why;
  end_running(self, s);
}

void deliver_waiters_if_idle(self_ptr self) {
  auto& st = self->state;
  if (st.running)
    return;
  for (auto& e : st.jobs)
    if (job_state(e.summary.state) == job_state::pending)
      return;
  auto all = summaries(self);
  for (auto& w : st.waiters)
    w.deliver(all);
  st.waiters.clear();
}

void run_plan(self_ptr self, job_plan plan) {
  auto id = plan.id;
  if (self->state.running != id) {
    self->send(self->state.reader, atom::stop::value, id);
    return;
  }
  for (auto& w : plan.warnings)
    spdlog::warn("job_warning job={} warning=\"{}\"", id, w);
  if (auto* e = find_entry(self, id)) {
    e->summary.frames_total = std::uint32_t(plan.frames.size());
    e->summary.path = plan.acquisition;
  }
  if (!plan.force && io::has_done_marker(plan.acquisition)) {
    auto* e = find_entry(self, id);
    job_summary s = e->summary;
    s.state = std::uint8_t(job_state::done);
    s.frames_done = s.frames_total;
    s.error = "skipped: done.txt present (use --force to segment again)";
    self->send(self->state.reader, atom::stop::value, id);
    end_running(self, s);
    return;
  }
  job_event ev;
  ev.kind = std::uint8_t(event_kind::job_started);
  ev.job_id = id;
  ev.path = plan.acquisition;
  ev.state = std::uint8_t(job_state::running);
  ev.frames_total = std::uint32_t(plan.frames.size());
  self->send(self->state.hub, ev);
  self->state.exporter_knows_running = true;
  self->request(self->state.exporter, request_timeout, atom::begin::value, plan)
    .then(
      [=](frame_indices& committed) {
        if (self->state.running != id)
          return;
        self->send(self->state.reader, atom::run::value, id, std::move(committed));
      },
      [=](caf::error& err) {
        self->send(self->state.reader, atom::stop::value, id);
        fail_before_run(self, id, error_text(self, err));
      });
}

void start_next(self_ptr self) {
  auto& st = self->state;
  if (st.running) {
    return;
  }
  queue_entry* next = nullptr;
  for (auto& e : st.jobs)
    if (job_state(e.summary.state) == job_state::pending) {
      next = &e;
      break;
    }
  if (next == nullptr) {
    deliver_waiters_if_idle(self);
    return;
  }
  auto id = next->spec.id;
  st.running = id;
  st.exporter_knows_running = false;
  next->summary.state = std::uint8_t(job_state::running);
  auto spec = next->spec;
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(spec.path, ec).string();
  if (ec)
    key = spec.path;
  self->request(st.locks, request_timeout, atom::acquire::value, key)
    .then(
      [=](lease& l) {
        if (self->state.running != id) {
          caf::anon_send(self->state.locks, atom::release::value, l);
          return;
        }
        self->state.held = l;
        self->request(self->state.reader, request_timeout, atom::open::value, spec)
          .then([=](job_plan& plan) { run_plan(self, std::move(plan)); },
                [=](caf::error& err) { fail_before_run(self, id, error_text(self, err)); });
      },
      [=](caf::error& err) { fail_before_run(self, id, error_text(self, err)); });
}

void stop_job(self_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto* e = find_entry(self, id);
  if (e == nullptr)
    return; // unknown: a stale stop never touches another job
  auto state = job_state(e->summary.state);
  if (state == job_state::pending) {
    e->summary.state = std::uint8_t(job_state::interrupted);
    e->summary.error = "stopped before it started";
    notify_finished(self, e->summary);
    deliver_waiters_if_idle(self);
    return;
  }
  if (state != job_state::running || st.running != id)
    return; // already finished: pressing stop twice is harmless
  spdlog::info("job_stopping job={}", id);
  if (!st.exporter_knows_running) {
    // Still acquiring the lease or opening: the continuations see that the
    // job is no longer running and undo what they did.
    job_summary s = e->summary;
    s.state = std::uint8_t(job_state::interrupted);
    s.error = "stopped before its first frame";
    end_running(self, s);
    return;
  }
  // No more work handed out, in-flight frames dropped at the next step; the
  // exporter answers with finished(interrupted).
  self->send(st.reader, atom::stop::value, id);
  for (auto& w : st.workers)
    self->send(w, atom::stop::value, id);
  self->send(st.exporter, atom::stop::value, id, std::string{});
}

} // namespace

queue_actor::behavior_type queue(queue_actor::stateful_pointer<queue_state> self,
                                 queue_config cfg, status_hub_actor hub,
                                 lock_manager_actor locks) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.locks = std::move(locks);
  auto me = caf::actor_cast<queue_actor>(self);
  st.reader = self->spawn<caf::linked>(reader, cfg.reader, me, st.hub);
  st.exporter = self->spawn<caf::linked>(exporter, me, st.hub);
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, cfg.workers); ++i)
    st.workers.push_back(self->spawn<caf::detached + caf::linked>(segment_worker,
                                                                  st.reader, st.exporter));
  return {
    [=](atom::add, job_spec& spec) -> std::uint64_t {
      auto id = self->state.next_id++;
      spec.id = id;
      queue_entry e;
      e.spec = spec;
      e.summary.id = id;
      e.summary.path = spec.path;
      e.summary.state = std::uint8_t(job_state::pending);
      self->state.jobs.push_back(std::move(e));
      start_next(self);
      return id;
    },
    [=](atom::stop, std::uint64_t id) { stop_job(self, id); },
    [=](atom::stop_all) {
      std::vector<std::uint64_t> ids;
      for (auto& e : self->state.jobs)
        ids.push_back(e.spec.id);
      // Pending ones first, so the stopped running job starts nothing new.
      for (auto id : ids)
        if (self->state.running != id)
          stop_job(self, id);
      if (self->state.running)
        stop_job(self, *self->state.running);
    },
    [=](atom::finished, job_summary& s) {
      if (self->state.running != s.id)
        return;
      end_running(self, std::move(s));
    },
    [=](atom::failed, std::uint64_t id, std::string& why) {
      if (self->state.running != id)
        return;
      self->send(self->state.exporter, atom::stop::value, id, why);
    },
    [=](atom::list) { return summaries(self); },
    [=](atom::wait) -> caf::result<std::vector<job_summary>> {
      auto rp = self->make_response_promise<std::vector<job_summary>>();
      self->state.waiters.push_back(rp);
      deliver_waiters_if_idle(self);
      return rp;
    },
  };
}

queue_actor spawn_queue(caf::actor_system& sys, const queue_config& cfg,
                        status_hub_actor hub, lock_manager_actor locks) {
  return sys.spawn(queue, cfg, std::move(hub), std::move(locks));
}

} // namespace seg
