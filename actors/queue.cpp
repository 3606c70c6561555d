#include "actors/queue.hpp"

#include <algorithm>
#include <filesystem>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/trace.hpp"
#include "actors/exporter.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/job_report.hpp"
#include "actors/segment_worker.hpp"

namespace seg {

namespace {

using self_ptr = queue_actor::stateful_pointer<queue_state>;
using clock_type = std::chrono::steady_clock;

constexpr auto request_timeout = std::chrono::seconds(60);

// Progress counters are saved at most this often (state changes always).
constexpr auto progress_save_interval = std::chrono::seconds(1);

// The text an actor put into an error, or CAF's rendering of it.
std::string error_text(self_ptr self, const caf::error& err) {
  return seg::error_text(self->system(), err);
}

caf::error no_such_job(std::uint64_t id) {
  return make_error(ec::unknown_job, "no job " + std::to_string(id));
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

job_state state_of(const job_record& j) {
  return job_state(j.summary.state);
}

job_record* find_job(self_ptr self, std::uint64_t id) {
  for (auto& j : self->state.jobs)
    if (j.spec.id == id)
      return &j;
  return nullptr;
}

std::string canonical_key(const std::string& path) {
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(path, ec).string();
  return ec ? path : key;
}

run_slot* slot_of(self_ptr self, std::uint64_t run) {
  auto& st = self->state;
  if (st.current && st.current->run == run)
    return &*st.current;
  if (st.next && st.next->run == run)
    return &*st.next;
  return nullptr;
}

bool is_current(self_ptr self, const run_slot* s) {
  return self->state.current && &*self->state.current == s;
}

// A job as replies show it: the running job's elapsed time is live.
job_record view_of(self_ptr self, const job_record& j) {
  auto out = j;
  auto& cur = self->state.current;
  if (cur && cur->job == j.spec.id && state_of(j) == job_state::running)
    out.elapsed_s += seconds_since(cur->started);
  out.summary.seconds = out.elapsed_s;
  return out;
}

queue_listing listing(self_ptr self) {
  queue_listing out;
  out.paused = self->state.paused;
  std::uint32_t position = 0;
  for (auto& j : self->state.jobs) {
    out.jobs.push_back(view_of(self, j));
    if (state_of(j) == job_state::pending)
      out.jobs.back().position = ++position;
  }
  return out;
}

job_record record_view(self_ptr self, std::uint64_t id) {
  for (auto& j : listing(self).jobs)
    if (j.spec.id == id)
      return j;
  return {};
}

std::vector<job_summary> summaries(self_ptr self) {
  std::vector<job_summary> out;
  for (auto& j : self->state.jobs)
    out.push_back(view_of(self, j).summary);
  return out;
}

void save(self_ptr self) {
  auto& st = self->state;
  st.last_saved = clock_type::now();
  if (st.cfg.state_file.empty())
    return;
  io::queue_snapshot q;
  q.paused = st.paused;
  q.next_id = st.next_id;
  q.jobs = listing(self).jobs;
  try {
    io::save_queue(st.cfg.state_file, q);
    if (!st.last_save_error.empty())
      spdlog::info("queue_saved file={} after=\"{}\"", st.cfg.state_file,
                   st.last_save_error);
    st.last_save_error.clear();
  } catch (const std::exception& e) {
    // Logged once per problem: the queue goes on in memory and retries.
    if (st.last_save_error != e.what())
      spdlog::error("queue_save_failed error=\"{}\"", e.what());
    st.last_save_error = e.what();
  }
}

// The job that starts when the running one ends: a job that was running
// when serve stopped first (even if the queue is stopped), then the first
// pending one unless the queue is stopped.
std::optional<std::uint64_t> pick_next(self_ptr self) {
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

run_slot new_slot(self_ptr self, std::uint64_t job) {
  run_slot s;
  s.job = job;
  auto attempt = self->state.attempts[job]++;
  s.run = job | (std::uint64_t{attempt} << run_attempt_shift);
  return s;
}

void publish_finished(self_ptr self, std::uint64_t run, const job_summary& s) {
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
  self->send(self->state.hub, ev);
}

void announce(self_ptr self, run_slot& s) {
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
  self->send(self->state.hub, ev);
}

// Stops a run down the pipeline: the reader hands out no more of its work,
// the workers drop its items at their next step, and the exporter (once it
// began the run) ends it. Every stop is idempotent and names the run, so this
// is safe for a run that already ended.
void send_stops(self_ptr self, const run_slot& s) {
  auto& st = self->state;
  self->send(st.reader, atom::stop::value, s.run);
  stop_workers(self, st.workers, s.run);
  if (s.exporter_began)
    self->send(st.exporter, atom::stop::value, s.run, std::string{});
}

// Takes a run off the pipeline and gives its lease back.
void detach(self_ptr self, run_slot& s) {
  auto& st = self->state;
  send_stops(self, s);
  if (s.held) {
    auto job = s.job;
    self->request(st.locks, request_timeout, atom::release::value, *s.held)
      .then([](bool) {},
            [=](caf::error& err) {
              spdlog::warn("lease_release_failed job={} error=\"{}\"", job,
                           error_text(self, err));
            });
    s.held.reset();
  }
}

void start_next(self_ptr self);
void maybe_prepare_next(self_ptr self);

void deliver_waiters_if_idle(self_ptr self) {
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
void end_running(self_ptr self, job_summary summary) {
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

job_summary failed_summary(self_ptr self, std::uint64_t job, const std::string& why) {
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
void set_outcome(self_ptr self, std::uint64_t run, job_summary summary) {
  auto* s = slot_of(self, run);
  if (s == nullptr)
    return; // an abandoned run
  if (is_current(self, s)) {
    end_running(self, std::move(summary));
    return;
  }
  s->outcome = std::move(summary);
}

void prepare_failed(self_ptr self, std::uint64_t run, const std::string& why) {
  auto* s = slot_of(self, run);
  if (s == nullptr)
    return;
  auto* j = find_job(self, s->job);
  spdlog::error("job_failed job={} path={} error=\"{}\"", s->job,
                j != nullptr ? j->spec.path : "", why);
  set_outcome(self, run, failed_summary(self, s->job, why));
}

void began(self_ptr self, std::uint64_t run, const frame_indices& committed) {
  auto* s = slot_of(self, run);
  if (s == nullptr)
    return;
  s->began = true;
  if (auto* j = find_job(self, s->job)) {
    // A forced job's old outputs are gone now: a later run (after a
    // restart) resumes instead of starting over again.
    j->spec.force = false;
    j->summary.frames_done = std::uint32_t(committed.size());
    j->summary.frames_resumed = std::uint32_t(committed.size());
  }
  self->send(self->state.reader, atom::run::value, run, committed);
  if (self->state.sealed.count(s->job) > 0)
    self->send(self->state.reader, atom::seal::value, run);
  if (is_current(self, s))
    announce(self, *s);
  save(self);
}

void opened(self_ptr self, std::uint64_t run, job_plan plan) {
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
  if (!plan.force && io::has_done_marker(io::output_layout(plan))) {
    job_summary done = j->summary;
    done.state = job_state::done;
    done.frames_done = done.frames_total;
    done.error = "skipped: done.txt present (use --force to segment again)";
    set_outcome(self, run, done);
    return;
  }
  s->exporter_began = true;
  self->request(self->state.exporter, request_timeout, atom::begin::value, plan)
    .then([=](frame_indices& committed) { began(self, run, committed); },
          [=](caf::error& err) {
            prepare_failed(self, run, error_text(self, err));
          });
}

// Lease, then the reader's open, then the exporter's begin, then the
// reader runs it (flat field first). Each continuation checks that the run
// is still wanted; an abandoned run's stops reach the reader and exporter
// after the requests, so they undo what the requests did.
void prepare(self_ptr self, std::uint64_t run) {
  auto* s = slot_of(self, run);
  auto* j = s != nullptr ? find_job(self, s->job) : nullptr;
  if (j == nullptr)
    return;
  auto spec = j->spec;
  spec.id = run;
  self->request(self->state.locks, request_timeout, atom::acquire::value,
                canonical_key(spec.path))
    .then(
      [=](lease& l) {
        auto* s = slot_of(self, run);
        if (s == nullptr) {
          caf::anon_send(self->state.locks, atom::release::value, l);
          return;
        }
        s->held = l;
        self->request(self->state.reader, request_timeout, atom::open::value, spec)
          .then([=](job_plan& plan) { opened(self, run, std::move(plan)); },
                [=](caf::error& err) {
                  prepare_failed(self, run, error_text(self, err));
                });
      },
      [=](caf::error& err) { prepare_failed(self, run, error_text(self, err)); });
}

void mark_running(self_ptr self, run_slot& s) {
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

void abandon_next(self_ptr self) {
  auto& st = self->state;
  if (!st.next)
    return;
  auto s = std::move(*st.next);
  st.next.reset();
  spdlog::info("job_unprepared job={} run={}", s.job, s.run);
  detach(self, s);
}

void promote(self_ptr self) {
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
  if (s.drained)
    maybe_prepare_next(self);
}

void start_next(self_ptr self) {
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
void maybe_prepare_next(self_ptr self) {
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
void revise_next(self_ptr self) {
  auto& st = self->state;
  if (st.next) {
    auto want = pick_next(self);
    if (!want || *want != st.next->job)
      abandon_next(self);
  }
  maybe_prepare_next(self);
}

void after_change(self_ptr self) {
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
void stop_current(self_ptr self) {
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

void interrupt_pending(self_ptr self, job_record& j, const std::string& why) {
  j.summary.state = job_state::interrupted;
  j.summary.error = why;
  j.resume = false;
  publish_finished(self, j.spec.id, j.summary);
}

std::string not_pending_text(const job_record& j, const std::string& verb) {
  return "job " + std::to_string(j.spec.id) + " is "
         + to_string(job_state(j.summary.state)) + ": only pending jobs can be " + verb;
}

caf::result<std::vector<std::uint64_t>> add_checked(self_ptr self,
                                                    std::vector<job_spec>& specs) {
  auto& st = self->state;
  if (st.shutting_down)
    return make_error(ec::shutting_down, "serve is shutting down: nothing was queued");
  if (specs.empty())
    return make_error(ec::bad_request, "no acquisition given: nothing was queued");
  std::map<std::string, std::string> seen; // canonical path -> what holds it
  std::vector<std::uint32_t> frames;        // per spec, from its plan
  for (auto& j : st.jobs) {
    auto state = state_of(j);
    if (state == job_state::pending || state == job_state::running)
      seen.emplace(canonical_key(j.spec.path), "job " + std::to_string(j.spec.id) + " ("
                                                 + to_string(state) + ")");
  }
  for (auto& spec : specs) {
    auto fail = [&](ec code, const std::string& why) {
      return make_error(code, spec.path + ": " + why + "; nothing was queued");
    };
    if (!io::is_valid_utf8(spec.path))
      return fail(ec::bad_request, "the path is not valid UTF-8");
    for (auto& o : spec.overrides)
      if (!io::is_valid_utf8(o))
        return fail(ec::bad_request, "setting '" + o + "' is not valid UTF-8");
    try {
      frames.push_back(
        std::uint32_t(resolve_job(spec, st.cfg.reader.base).plan.frames.size()));
    } catch (const std::exception& e) {
      return make_error(ec::not_an_acquisition,
                        std::string(e.what()) + "; nothing was queued");
    }
    auto key = canonical_key(spec.path);
    if (auto it = seen.find(key); it != seen.end())
      return fail(ec::already_queued, "already queued as " + it->second);
    seen.emplace(key, "an earlier path of this request");
  }
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto& spec = specs[i];
    spec.id = st.next_id++;
    job_record j;
    j.spec = spec;
    j.summary.id = spec.id;
    j.summary.path = spec.path;
    j.summary.state = job_state::pending;
    j.summary.frames_total = frames[i];
    spdlog::info("job_added job={} path={} force={}", spec.id, spec.path, spec.force);
    st.jobs.push_back(std::move(j));
    ids.push_back(spec.id);
  }
  after_change(self);
  return ids;
}

caf::result<queue_listing> move_job(self_ptr self, std::uint64_t id,
                                    std::uint32_t position) {
  auto& st = self->state;
  auto it = std::find_if(st.jobs.begin(), st.jobs.end(),
                         [id](const job_record& j) { return j.spec.id == id; });
  if (it == st.jobs.end())
    return no_such_job(id);
  if (state_of(*it) != job_state::pending)
    return make_error(ec::bad_state, not_pending_text(*it, "moved"));
  if (position == 0)
    return make_error(ec::bad_request, "positions start at 1 (1 runs next)");
  auto job = std::move(*it);
  st.jobs.erase(it);
  // Before the position-th pending job, or at the end.
  auto where = st.jobs.end();
  std::uint32_t seen = 0;
  for (auto i = st.jobs.begin(); i != st.jobs.end(); ++i)
    if (state_of(*i) == job_state::pending && ++seen == position) {
      where = i;
      break;
    }
  st.jobs.insert(where, std::move(job));
  spdlog::info("job_moved job={} position={}", id, position);
  after_change(self);
  return listing(self);
}

caf::result<job_record> remove_job(self_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto it = std::find_if(st.jobs.begin(), st.jobs.end(),
                         [id](const job_record& j) { return j.spec.id == id; });
  if (it == st.jobs.end())
    return no_such_job(id);
  if (state_of(*it) != job_state::pending)
    return make_error(ec::bad_state,
                      not_pending_text(*it, "removed")
                        + (state_of(*it) == job_state::running
                             ? " (stop it with: stop " + std::to_string(id) + ")"
                             : ""));
  auto removed = *it;
  st.jobs.erase(it);
  spdlog::info("job_removed job={}", id);
  after_change(self);
  return removed;
}

caf::result<job_record> stop_job(self_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto* j = find_job(self, id);
  if (j == nullptr)
    return no_such_job(id);
  auto state = state_of(*j);
  if (state == job_state::pending) {
    interrupt_pending(self, *j, "stopped before it started");
    spdlog::info("job_stopped job={} state=pending", id);
    after_change(self);
    return record_view(self, id);
  }
  if (state != job_state::running || !st.current || st.current->job != id)
    return record_view(self, id); // finished: a repeated stop is harmless
  auto rp = self->make_response_promise<job_record>();
  st.stop_waiters.emplace(id, rp);
  stop_current(self);
  return rp;
}

void stop_everything(self_ptr self) {
  auto& st = self->state;
  for (auto& j : st.jobs)
    if (state_of(j) == job_state::pending)
      interrupt_pending(self, j, "stopped before it started");
  revise_next(self);
  stop_current(self);
  save(self);
}

} // namespace

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
  cfg.workers = in_process;
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
