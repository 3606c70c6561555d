#include "actors/queue_internal.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/io/queue_store.hpp"

namespace seg::detail {

// The text an actor put into an error, or CAF's rendering of it.
std::string error_text(queue_ptr self, const caf::error& err) {
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

job_record* find_job(queue_ptr self, std::uint64_t id) {
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

run_slot* slot_of(queue_ptr self, std::uint64_t run) {
  auto& st = self->state;
  if (st.current && st.current->run == run)
    return &*st.current;
  if (st.next && st.next->run == run)
    return &*st.next;
  return nullptr;
}

bool is_current(queue_ptr self, const run_slot* s) {
  return self->state.current && &*self->state.current == s;
}

namespace {

// A job as replies show it: the running job's elapsed time is live.
job_record view_of(queue_ptr self, const job_record& j) {
  auto out = j;
  auto& cur = self->state.current;
  if (cur && cur->job == j.spec.id && state_of(j) == job_state::running)
    out.elapsed_s += seconds_since(cur->started);
  out.summary.seconds = out.elapsed_s;
  return out;
}

void interrupt_pending(queue_ptr self, job_record& j, const std::string& why) {
  j.summary.state = job_state::interrupted;
  j.summary.error = why;
  j.resume = false;
  publish_finished(self, j.spec.id, j.summary);
}

using job_iterator = decltype(queue_state::jobs)::iterator;

// The pending job `id`, or why it cannot be `verb` ("moved", "removed").

caf::expected<job_iterator> find_pending(queue_ptr self, std::uint64_t id,
                                         const std::string& verb) {
  auto& jobs = self->state.jobs;
  auto it = std::find_if(jobs.begin(), jobs.end(),
                         [id](const job_record& j) { return j.spec.id == id; });
  if (it == jobs.end())
    return no_such_job(id);
  auto state = state_of(*it);
  if (state != job_state::pending)
    return make_error(ec::bad_state,
                      "job " + std::to_string(id) + " is " + to_string(state)
                        + ": only pending jobs can be " + verb
                        + (state == job_state::running
                             ? " (stop it with: stop " + std::to_string(id) + ")"
                             : ""));
  return it;
}

} // namespace

queue_listing listing(queue_ptr self) {
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

job_record record_view(queue_ptr self, std::uint64_t id) {
  for (auto& j : listing(self).jobs)
    if (j.spec.id == id)
      return j;
  return {};
}

std::vector<job_summary> summaries(queue_ptr self) {
  std::vector<job_summary> out;
  for (auto& j : self->state.jobs)
    out.push_back(view_of(self, j).summary);
  return out;
}

void save(queue_ptr self) {
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

caf::result<std::vector<std::uint64_t>> add_checked(queue_ptr self,
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

caf::result<queue_listing> move_job(queue_ptr self, std::uint64_t id,
                                    std::uint32_t position) {
  auto& st = self->state;
  auto it = find_pending(self, id, "moved");
  if (!it)
    return std::move(it.error());
  if (position == 0)
    return make_error(ec::bad_request, "positions start at 1 (1 runs next)");
  auto job = std::move(**it);
  st.jobs.erase(*it);
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

caf::result<job_record> remove_job(queue_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto it = find_pending(self, id, "removed");
  if (!it)
    return std::move(it.error());
  auto removed = **it;
  st.jobs.erase(*it);
  spdlog::info("job_removed job={}", id);
  after_change(self);
  return removed;
}

caf::result<job_record> stop_job(queue_ptr self, std::uint64_t id) {
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

void stop_everything(queue_ptr self) {
  auto& st = self->state;
  for (auto& j : st.jobs)
    if (state_of(j) == job_state::pending)
      interrupt_pending(self, j, "stopped before it started");
  revise_next(self);
  stop_current(self);
  save(self);
}

} // namespace seg::detail
