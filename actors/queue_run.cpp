#include "actors/queue_internal.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/exporter.hpp"
#include "actors/io/export_lock.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/job_report.hpp"
#include "actors/segment_worker.hpp"

namespace seg::detail {

// The job that starts when the running one ends: a job that was running
// when serve stopped first (even if the queue is stopped), then the first
// pending one unless the queue is stopped.
std::optional<std::uint64_t> pick_next(queue_ptr self) {
  auto& st = self->state;
  if (st.shutting_down)
    return std::nullopt;
  for (auto& j : st.jobs)
    if (state_of(j) == job_state::pending && j.resume)
      return j.spec.id;
  if (st.paused)
    return std::nullopt;
  for (auto& j : st.jobs)
    if (state_of(j) == job_state::pending)
      return j.spec.id;
  return std::nullopt;
}

run_slot new_slot(queue_ptr self, std::uint64_t job) {
  run_slot s;
  s.job = job;
  auto attempt = self->state.attempts[job]++;
  s.run = job | (std::uint64_t{attempt} << run_attempt_shift);
  return s;
}

void publish_finished(queue_ptr self, std::uint64_t run, const job_summary& s) {
  job_event ev;
  ev.kind = event_kind::job_finished;
  ev.job_id = run;
  ev.path = s.path;
  ev.state = s.state;
  ev.frames_total = s.frames_total;
  ev.frames_done = s.frames_done;
  ev.objects = s.objects;
  ev.elapsed_s = s.seconds;
  ev.message = s.error;
  ev.op_id = s.op_id;
  self->send(self->state.hub, ev);
}

void announce(queue_ptr self, run_slot& s) {
  auto* j = find_job(self, s.job);
  if (s.announced || j == nullptr)
    return;
  s.announced = true;
  job_event ev;
  ev.kind = event_kind::job_started;
  ev.job_id = s.run;
  ev.path = j->summary.path;
  ev.state = job_state::running;
  ev.frames_total = j->summary.frames_total;
  ev.frames_done = j->summary.frames_done;
  ev.op_id = s.op_id;
  self->send(self->state.hub, ev);
}

// Stops a run down the pipeline: the reader hands out no more of its work,
// the workers drop its items at their next step, and the exporter (once it
// began the run) ends it. Every stop is idempotent and names the run, so this
// is safe for a run that already ended.
void send_stops(queue_ptr self, const run_slot& s) {
  auto& st = self->state;
  self->send(st.reader, atom::stop::value, s.run);
  stop_workers(self, st.workers, s.run);
  if (s.exporter_began)
    self->send(st.exporter, atom::stop::value, s.run, std::string{});
}

// Takes a run off the pipeline and gives its lease back.
void detach(queue_ptr self, run_slot& s) {
  auto& st = self->state;
  send_stops(self, s);
  auto job = s.job;
  for (auto& l : s.held)
    self->request(st.locks, request_timeout, atom::release::value, l)
      .then([](bool) {},
            [=](caf::error& err) {
              spdlog::warn("lease_release_failed job={} error=\"{}\"", job,
                           error_text(self, err));
            });
  s.held.clear();
}

void deliver_waiters_if_idle(queue_ptr self) {
  auto& st = self->state;
  if (st.current)
    return;
  for (auto& j : st.jobs)
    if (state_of(j) == job_state::pending)
      return;
  auto all = summaries(self);
  for (auto& w : st.waiters)
    w.deliver(all);
  st.waiters.clear();
}

// Ends the running job with `summary` (from the exporter or made here) and
// moves on.
void end_running(queue_ptr self, job_summary summary) {
  auto& st = self->state;
  if (!st.current)
    return;
  auto slot = std::move(*st.current);
  st.current.reset();
  detach(self, slot);
  auto* j = find_job(self, slot.job);
  if (j != nullptr) {
    auto elapsed = j->elapsed_s + seconds_since(slot.started);
    summary.id = slot.job;
    if (summary.op_id.empty()) // a summary the queue made
      summary.op_id = slot.op_id;
    if (summary.path.empty())
      summary.path = j->summary.path;
    summary.seconds = elapsed;
    j->summary = summary;
    j->elapsed_s = elapsed;
    if (st.shutting_down && job_state(summary.state) == job_state::interrupted) {
      j->resume = true;
      j->summary.error = "serve stopped; the job resumes when serve starts again";
    }
    summary = j->summary;
    if (slot.exporter_began)
      report_job_end(st.cfg.reader.base, j->spec, summary); // logs; never fails the job
  }
  spdlog::info("job_finished job={} state={} frames={}/{} failed={} objects={} s={:.2f}",
               slot.job, to_string(job_state(summary.state)), summary.frames_done,
               summary.frames_total, summary.frames_failed, summary.objects,
               summary.seconds);
  publish_finished(self, slot.run, summary);
  auto [first, last] = st.stop_waiters.equal_range(slot.job);
  if (first != last) {
    auto rec = record_view(self, slot.job);
    for (auto it = first; it != last; ++it)
      it->second.deliver(rec);
    st.stop_waiters.erase(first, last);
  }
  save(self);
  start_next(self);
  if (!st.current && !st.idle_waiters.empty()) {
    auto all = listing(self);
    for (auto& w : st.idle_waiters)
      w.deliver(all);
    st.idle_waiters.clear();
  }
  deliver_waiters_if_idle(self);
}

job_summary failed_summary(queue_ptr self, std::uint64_t job, const std::string& why) {
  job_summary s;
  if (auto* j = find_job(self, job))
    s = j->summary;
  s.id = job;
  s.state = job_state::failed;
  s.error = why;
  return s;
}

// A run ended (or cannot start): the running job ends now, a prepared one
// when it would have started, so states change in queue order.
void set_outcome(queue_ptr self, std::uint64_t run, job_summary summary) {
  auto* s = slot_of(self, run);
  if (s == nullptr)
    return; // an abandoned run
  if (is_current(self, s)) {
    end_running(self, std::move(summary));
    return;
  }
  s->outcome = std::move(summary);
}

void prepare_failed(queue_ptr self, std::uint64_t run, const std::string& why) {
  auto* s = slot_of(self, run);
  if (s == nullptr)
    return;
  auto* j = find_job(self, s->job);
  spdlog::error("job_failed job={} path={} error=\"{}\"", s->job,
                j != nullptr ? j->spec.path : "", why);
  set_outcome(self, run, failed_summary(self, s->job, why));
}

void began(queue_ptr self, std::uint64_t run, const frame_indices& committed,
           const std::string& op_id) {
  auto* s = slot_of(self, run);
  if (s == nullptr)
    return;
  s->began = true;
  s->op_id = op_id;
  if (auto* j = find_job(self, s->job)) {
    // A forced job's old outputs are gone now: a later run (after a
    // restart) resumes instead of starting over again.
    j->spec.force = false;
    j->summary.frames_done = std::uint32_t(committed.size());
    j->summary.frames_resumed = std::uint32_t(committed.size());
  }
  self->send(self->state.reader, atom::run::value, run, committed, op_id);
  if (self->state.sealed.count(s->job) > 0)
    self->send(self->state.reader, atom::seal::value, run);
  if (is_current(self, s))
    announce(self, *s);
  save(self);
}

void lease_and_begin(queue_ptr self, std::uint64_t run, job_plan plan,
                     std::vector<std::string> keys);

void opened(queue_ptr self, std::uint64_t run, job_plan plan) {
  auto* s = slot_of(self, run);
  if (s == nullptr)
    return; // abandoned: the reader got the stop after the open
  auto* j = find_job(self, s->job);
  if (j == nullptr)
    return;
  for (auto& w : plan.warnings)
    spdlog::warn("job_warning job={} warning=\"{}\"", s->job, w);
  j->summary.frames_total = std::uint32_t(plan.frames.size());
  j->summary.path = plan.acquisition;
  io::output_layout layout(plan);
  if (!plan.force && io::has_done_marker(layout)) {
    job_summary done = j->summary;
    done.state = job_state::done;
    done.frames_done = done.frames_total;
    done.error = "skipped: done.txt present (use --force to segment again)";
    // A run killed after its done.txt (writing its report, giving its
    // leases back) leaves temporaries and leases of a dead process: this
    // skip, taking nothing, clears them.
    try {
      io::sweep_outputs(layout);
      io::release_dead_leases(io::job_keys(plan, layout));
    } catch (const std::exception& e) {
      spdlog::warn("sweep_failed job={} error=\"{}\"", s->job, e.what());
    }
    set_outcome(self, run, done);
    return;
  }
  std::vector<std::string> keys;
  try {
    keys = io::job_keys(plan, layout);
  } catch (const std::exception& e) {
    prepare_failed(self, run, std::string("preparing outputs: ") + e.what());
    return;
  }
  // The running job's keys are this queue's own: the next run waits for
  // them (its lease would be refused until the running job ends).
  auto& cur = self->state.current;
  if (!is_current(self, s) && cur)
    for (auto& l : cur->held)
      if (std::find(keys.begin(), keys.end(), l.key) != keys.end()) {
        spdlog::info("job_waits_for_keys job={} key={} held_by_job={}", s->job, l.key,
                     cur->job);
        s->waiting = std::move(plan);
        return;
      }
  lease_and_begin(self, run, std::move(plan), std::move(keys));
}

void lease_and_begin(queue_ptr self, std::uint64_t run, job_plan plan,
                     std::vector<std::string> keys) {
  self->request(self->state.locks, request_timeout, atom::acquire::value, std::move(keys))
    .then(
      [=](std::vector<lease>& leases) mutable {
        auto* s = slot_of(self, run);
        if (s == nullptr) {
          for (auto& l : leases)
            caf::anon_send(self->state.locks, atom::release::value, l);
          return;
        }
        s->held = std::move(leases);
        s->exporter_began = true;
        self->request(self->state.exporter, request_timeout, atom::begin::value,
                      std::move(plan))
          .then([=](frame_indices& committed,
                    std::string& op_id) { began(self, run, committed, op_id); },
                [=](caf::error& err) {
                  prepare_failed(self, run, error_text(self, err));
                });
      },
      [=](caf::error& err) { prepare_failed(self, run, error_text(self, err)); });
}

// The reader's open, then the leases (acquisition, output folder, archive:
// all or nothing), then the exporter's begin, then the reader runs it
// (flat field first). Each continuation checks that the run is still
// wanted; an abandoned run's stops reach the reader and exporter after the
// requests, so they undo what the requests did.
void prepare(queue_ptr self, std::uint64_t run) {
  auto* s = slot_of(self, run);
  auto* j = s != nullptr ? find_job(self, s->job) : nullptr;
  if (j == nullptr)
    return;
  auto spec = j->spec;
  spec.id = run;
  self->request(self->state.reader, request_timeout, atom::open::value, spec)
    .then([=](job_plan& plan) { opened(self, run, std::move(plan)); },
          [=](caf::error& err) { prepare_failed(self, run, error_text(self, err)); });
}

void mark_running(queue_ptr self, run_slot& s) {
  s.started = clock_type::now();
  if (auto* j = find_job(self, s.job)) {
    j->summary.state = job_state::running;
    j->summary.error.clear();
    j->summary.objects = 0;
    j->summary.frames_failed = 0;
    j->summary.failures.clear();
    j->started_unix_ms = unix_ms_now();
    j->resume = false;
    spdlog::info("job_started job={} run={} path={}", s.job, s.run, j->spec.path);
  }
  save(self);
}

void abandon_next(queue_ptr self) {
  auto& st = self->state;
  if (!st.next)
    return;
  auto s = std::move(*st.next);
  st.next.reset();
  spdlog::info("job_unprepared job={} run={}", s.job, s.run);
  detach(self, s);
}

void promote(queue_ptr self) {
  auto& st = self->state;
  st.current = std::move(st.next);
  st.next.reset();
  auto& s = *st.current;
  mark_running(self, s);
  if (s.outcome) {
    auto outcome = *s.outcome;
    end_running(self, std::move(outcome));
    return;
  }
  if (s.began)
    announce(self, s);
  if (s.waiting) { // the keys it waited for were given back as the last job ended
    auto plan = std::move(*s.waiting);
    s.waiting.reset();
    std::vector<std::string> keys;
    try {
      keys = io::job_keys(plan, io::output_layout(plan));
    } catch (const std::exception& e) {
      prepare_failed(self, s.run, std::string("preparing outputs: ") + e.what());
      return;
    }
    lease_and_begin(self, s.run, std::move(plan), std::move(keys));
  }
  if (s.drained)
    maybe_prepare_next(self);
}

void start_next(queue_ptr self) {
  auto& st = self->state;
  if (st.current)
    return;
  auto want = pick_next(self);
  if (st.next && (!want || st.next->job != *want))
    abandon_next(self);
  if (!want) {
    deliver_waiters_if_idle(self);
    return;
  }
  if (st.next) {
    promote(self);
    return;
  }
  st.current = new_slot(self, *want);
  auto run = st.current->run;
  mark_running(self, *st.current);
  prepare(self, run);
}

// While the running job's last frames are in flight, prepare the job that
// will start next (only one at a time).
void maybe_prepare_next(queue_ptr self) {
  auto& st = self->state;
  if (!st.cfg.prepare_next || !st.current || !st.current->drained || st.next)
    return;
  auto want = pick_next(self);
  if (!want)
    return;
  st.next = new_slot(self, *want);
  auto run = st.next->run;
  spdlog::info("job_preparing job={} run={} while_running={}", *want, run,
               st.current->job);
  prepare(self, run);
}

// After a queue edit: the prepared job must still be the one that starts
// next, or it is put back.
void revise_next(queue_ptr self) {
  auto& st = self->state;
  if (st.next) {
    auto want = pick_next(self);
    if (!want || *want != st.next->job)
      abandon_next(self);
  }
  maybe_prepare_next(self);
}

void after_change(queue_ptr self) {
  save(self);
  if (!self->state.current)
    start_next(self);
  else
    revise_next(self);
  deliver_waiters_if_idle(self);
}

// Stops the running job: at once while it is still being prepared (the
// stops that detach sends follow the preparing requests, so the reader and
// exporter drop what they prepared), otherwise the exporter answers with
// finished(interrupted).
void stop_current(queue_ptr self) {
  auto& st = self->state;
  if (!st.current)
    return;
  auto& s = *st.current;
  if (!s.began) {
    auto* j = find_job(self, s.job);
    job_summary summary = j != nullptr ? j->summary : job_summary{};
    summary.state = job_state::interrupted;
    summary.error = "stopped before its first frame";
    end_running(self, summary);
    return;
  }
  if (s.stopping)
    return;
  s.stopping = true;
  spdlog::info("job_stopping job={} run={}", s.job, s.run);
  // The exporter (it began the run: s.began) answers with
  // finished(interrupted).
  send_stops(self, s);
}

} // namespace seg::detail
