#include "actors/reader.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/segment_worker.hpp"
#include "actors/trace.hpp"
#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/ecotaxa/ecotaxa_tsv.hpp"
#include "actors/io/ecotaxa/ecotaxa_validate.hpp"
#include "actors/io/frame_file.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/python_format.hpp"
#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "shm/image_segment.hpp"

namespace seg {

namespace {

using clock_type = std::chrono::steady_clock;
using self_ptr = reader_actor::stateful_pointer<reader_state>;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

// Reads frame `name` of the job's acquisition; throws io_error with the
// reason (name refused, symlink out of the acquisition, empty, unreadable).
std::vector<std::uint8_t> read_frame(const job_plan& plan, const std::string& name,
                                     double& ms) {
  auto t0 = clock_type::now();
  auto bytes = io::read_frame_file(plan.acquisition, name,
                                   io::max_frame_file_bytes(plan.params.max_frame_pixels));
  ms += ms_since(t0);
  return bytes;
}

reader_job* find_job(self_ptr self, std::uint64_t id) {
  for (auto& j : self->state.jobs)
    if (j.plan.id == id)
      return &j;
  return nullptr;
}

std::string frame_path(const job_plan& plan, std::uint32_t index) {
  return (std::filesystem::path(plan.acquisition) / plan.frames[index]).string();
}

std::string size_text(int w, int h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

// A work item of `kind` for `job`, with the fields every kind carries.
work_item job_item(const reader_job& job, work_kind kind) {
  work_item item;
  item.kind = std::uint8_t(kind);
  item.job_id = job.plan.id;
  item.generation = job.generation;
  item.params = job.plan.params;
  return item;
}

// How many earlier frames a worker may try for frame k's previous mask
// (remove_previous_mask). The reference keeps the step-0 mask of the last
// frame that got that far, however long ago; a worker rebuilds it from the
// files, so the search is bounded: a frame preceded by more than this many
// unusable frames (bad, or not the flat's size) gets no previous mask. Only
// bad frames cost extra attempts.
constexpr std::uint32_t previous_mask_lookback = 3;

// The frames a worker may use for frame `index`'s previous mask, nearest
// first: names only, the worker reads them (each work item holds one
// frame's bytes, whatever the option). None for frame 0: the state is per
// job, so the first frame of an acquisition is never masked by another
// acquisition's last frame (the reference's global state is).
std::vector<std::string> previous_frames(const job_plan& plan, std::uint32_t index) {
  std::vector<std::string> names;
  if (!plan.params.remove_previous_mask)
    return names;
  for (std::uint32_t k = index; k > 0 && names.size() < previous_mask_lookback; --k)
    names.push_back(plan.frames[k - 1]);
  return names;
}

// A segment work item for frame `index`, with its bytes read.
work_item frame_item(reader_job& job, std::uint32_t index) {
  auto item = job_item(job, work_kind::segment);
  item.index = index;
  item.name = job.plan.frames[index];
  item.path = frame_path(job.plan, index);
  item.flat_segment = job.flat->name();
  item.previous = previous_frames(job.plan, index);
  try {
    item.bytes = read_frame(job.plan, item.name, item.read_ms);
  } catch (const std::exception&) {
    // Empty bytes: the worker reads the file itself and reports why it
    // cannot, as this frame's failure.
    item.bytes.clear();
  }
  return item;
}

void fail_job(self_ptr self, reader_job& job, const std::string& why) {
  spdlog::error("job_failed job={} path={} error=\"{}\"", job.plan.id,
                job.plan.acquisition, why);
  job.current = reader_job::phase::stopped;
  job.stack.reset();
  job.flat.reset();
  job.previous_flat.reset();
  job.flat_bytes.clear();
  self->send(self->state.queue, atom::failed::value, job.plan.id, why);
}

// Tells the queue when a job's last frame is handed out, so it can prepare
// the next job while the last frames are in flight.
void notify_if_drained(self_ptr self, const reader_job& job) {
  if (job.frames.empty() && job.read_ahead.empty())
    self->send(self->state.queue, atom::drained::value, job.plan.id);
}

// The frame in flat slot `slot` cannot be used: another frame takes its
// place, or the slot is dropped when every frame has been tried.
void flat_frame_bad(reader_job& job, std::uint32_t slot, const std::string& why) {
  auto& w = *job.window;
  auto bad = w.frame(slot);
  if (job.first_flat_problem.empty())
    job.first_flat_problem = why;
  if (auto next = w.replace(slot)) {
    spdlog::warn("flat_frame_replaced job={} frame={} replacement={} reason=\"{}\"",
                 job.plan.id, job.plan.frames[bad], job.plan.frames[*next], why);
    job.decodes.push_front(slot);
  } else {
    spdlog::warn("flat_frame_dropped job={} frame={} reason=\"{}\" (no untried frame left)",
                 job.plan.id, job.plan.frames[bad], why);
  }
}

// Why the encoded frame cannot go into the stack, or "" if it can.
std::string flat_frame_problem(const reader_job& job, const std::string& path,
                               const std::vector<std::uint8_t>& bytes) {
  auto info = kernels::probe_jpeg(bytes.data(), bytes.size());
  if (!info)
    return path + ": not a JPEG image (or its headers are corrupt)";
  if (kernels::pixels(info->coded) > job.plan.params.max_frame_pixels)
    return path + ": " + size_text(info->coded.width, info->coded.height)
           + " exceeds pipeline.max_frame_pixels ("
           + std::to_string(job.plan.params.max_frame_pixels) + ")";
  if (info->decoded.width != job.frame_width || info->decoded.height != job.frame_height)
    return path + ": size " + size_text(info->decoded.width, info->decoded.height)
           + " differs from the acquisition's " + size_text(job.frame_width, job.frame_height);
  return {};
}

// The next flat decode to hand out; frames that are unreadable or of the
// wrong size are replaced here already, without a round trip to a worker.
std::optional<work_item> next_flat_decode(reader_job& job) {
  while (!job.decodes.empty()) {
    auto slot = job.decodes.front();
    job.decodes.pop_front();
    auto frame = job.window->frame(slot);
    auto item = job_item(job, work_kind::flat_decode);
    item.index = slot;
    item.name = job.plan.frames[frame];
    item.path = frame_path(job.plan, frame);
    item.stack_segment = job.stack->name();
    item.stack_count = std::uint32_t(job.stack->count());
    std::string problem;
    if (auto it = job.flat_bytes.find(frame); it != job.flat_bytes.end()) {
      item.bytes = std::move(it->second);
      job.flat_bytes.erase(it);
    } else {
      try {
        item.bytes = read_frame(job.plan, item.name, item.read_ms);
      } catch (const std::exception& e) {
        problem = e.what();
      }
    }
    if (problem.empty())
      problem = flat_frame_problem(job, item.path, item.bytes);
    if (!problem.empty()) {
      flat_frame_bad(job, slot, problem);
      continue;
    }
    ++job.outstanding;
    return item;
  }
  return std::nullopt;
}

// Every flat slot is decoded or dropped: compact the chosen frames to the
// front of the stack and cut the median into bands, or fail the job when no
// frame is good.
void finish_flat_decodes(self_ptr self, reader_job& job) {
  auto& w = *job.window;
  auto chosen = w.chosen();
  if (chosen.empty())
    return fail_job(self, job, "flat field: none of the acquisition's "
                                 + std::to_string(job.plan.frames.size())
                                 + " frames can be used (first problem: "
                                 + job.first_flat_problem + ")");
  std::string names;
  for (auto s : chosen)
    names += (names.empty() ? "" : ",") + job.plan.frames[w.frame(s)];
  if (w.bad_frames() > 0)
    spdlog::warn("flat_frames_chosen job={} frames={} of={} bad={} names={}", job.plan.id,
                 chosen.size(), w.slots(), w.bad_frames(), names);
  // The median takes the first stack_used slots: move the chosen ones there.
  std::vector<std::size_t> where(chosen.begin(), chosen.end()); // slot of chosen[j]
  for (std::size_t j = 0; j < where.size(); ++j) {
    if (where[j] == j)
      continue;
    auto a = job.stack->image(int(j));
    auto b = job.stack->image(int(where[j]));
    std::swap_ranges(a.data, a.data + a.total() * a.elemSize(), b.data);
    for (std::size_t k = j + 1; k < where.size(); ++k)
      if (where[k] == j)
        where[k] = where[j];
    where[j] = j;
  }
  job.stack_used = std::uint32_t(chosen.size());
  // Cut the median into bands, a few per worker so a slow worker does not
  // hold the others up.
  int rows = job.flat->rows();
  int bands = int(std::max<std::uint32_t>(1, self->state.cfg.workers)) * 2;
  int step = std::max(1, (rows + bands - 1) / bands);
  for (int b = 0; b < rows; b += step)
    job.bands.emplace_back(b, std::min(rows, b + step));
  job.current = reader_job::phase::flat_bands;
}

// With the recalculation heuristic the exporter settles frames in order and
// holds the results that are ahead of the lowest frame still in flight.
// Frames are handed out at most a window past that frame, which bounds what
// it holds (a slow or hung frame parks the workers until it ends or times
// out) and what a recalculation throws away.
bool beyond_window(self_ptr self, const reader_job& job) {
  if (!job.flat_recalculate)
    return false;
  std::optional<std::uint32_t> lowest;
  for (auto& entry : self->state.held) {
    auto& h = entry.second;
    if (h.job_id == job.plan.id && h.generation == job.generation
        && work_kind(h.kind) == work_kind::segment)
      lowest = std::min(lowest.value_or(h.index), h.index);
  }
  if (!lowest)
    return false;
  auto next = !job.read_ahead.empty() ? job.read_ahead.front().index
              : !job.frames.empty()   ? job.frames.front()
                                      : *lowest;
  return next > *lowest + recalc_window(self->state.cfg);
}

// The next piece of work of any job, earliest job first; nullopt if none.
std::optional<work_item> next_work(self_ptr self) {
  for (auto& job : self->state.jobs) {
    if (job.current == reader_job::phase::flat_decode) {
      if (auto item = next_flat_decode(job))
        return item;
      if (job.outstanding == 0)
        finish_flat_decodes(self, job); // every frame tried was bad
    }
    switch (job.current) {
      case reader_job::phase::flat_bands:
        if (!job.bands.empty()) {
          auto [begin, end] = job.bands.front();
          job.bands.pop_front();
          ++job.outstanding;
          auto item = job_item(job, work_kind::flat_band);
          item.stack_segment = job.stack->name();
          item.flat_segment = job.flat->name();
          item.stack_count = job.stack_used;
          item.row_begin = begin;
          item.row_end = end;
          return item;
        }
        break;
      case reader_job::phase::frames:
        if (beyond_window(self, job))
          break;
        if (!job.read_ahead.empty()) {
          auto item = std::move(job.read_ahead.front());
          job.read_ahead.pop_front();
          notify_if_drained(self, job);
          return item;
        }
        if (!job.frames.empty()) {
          auto index = job.frames.front();
          job.frames.pop_front();
          notify_if_drained(self, job);
          return frame_item(job, index);
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

void schedule_prefetch(self_ptr self) {
  if (!self->state.prefetch_scheduled) {
    self->state.prefetch_scheduled = true;
    self->send(self, atom::prefetch::value);
  }
}

// How often held items are checked against the time limit: a tenth of it,
// between 50 ms and 1 s.
std::chrono::milliseconds tick_period(const reader_config& cfg) {
  auto ms = std::int64_t(cfg.frame_timeout_s * 100);
  return std::chrono::milliseconds(std::clamp<std::int64_t>(ms, 50, 1000));
}

void schedule_tick(self_ptr self) {
  auto& st = self->state;
  if (st.tick_scheduled || st.cfg.frame_timeout_s <= 0)
    return;
  st.tick_scheduled = true;
  self->delayed_send(self, tick_period(st.cfg), atom::tick::value);
}

// Notes that worker `who` holds `item` until it pulls again.
void hold(self_ptr self, const caf::actor_addr& who, const work_item& item) {
  if (!who)
    return;
  held_item h;
  h.job_id = item.job_id;
  h.generation = item.generation;
  h.kind = item.kind;
  h.index = item.index;
  h.row_begin = item.row_begin;
  h.row_end = item.row_end;
  h.since = clock_type::now();
  self->state.held[who] = h;
  schedule_tick(self);
}

// Hands work to workers that are waiting for it.
void serve_waiting(self_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty()) {
    auto item = next_work(self);
    if (!item)
      break;
    auto w = std::move(st.waiting.front());
    st.waiting.pop_front();
    hold(self, w.who, *item);
    w.rp.deliver(std::move(*item));
  }
  schedule_prefetch(self);
}

// A worker asks for work: its previous item is done, an older request of it
// timed out (its promise is stale), and it is monitored from now on.
void worker_asks(self_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  if (!who)
    return;
  st.held.erase(who);
  st.waiting.erase(std::remove_if(st.waiting.begin(), st.waiting.end(),
                                  [&](const waiting_worker& w) { return w.who == who; }),
                   st.waiting.end());
  if (st.monitored.insert(who).second)
    self->monitor(self->current_sender());
}

// Worker `who` is gone with the item it held: the item goes back to the
// front of its job once; lost a second time, a frame fails, a flat frame is
// replaced and a flat band fails the job.
void worker_lost(self_ptr self, const caf::actor_addr& who, const caf::error& reason) {
  auto& st = self->state;
  st.monitored.erase(who);
  st.waiting.erase(std::remove_if(st.waiting.begin(), st.waiting.end(),
                                  [&](const waiting_worker& w) { return w.who == who; }),
                   st.waiting.end());
  auto it = st.held.find(who);
  if (it == st.held.end())
    return;
  auto h = it->second;
  st.held.erase(it);
  auto* job = find_job(self, h.job_id);
  if (job == nullptr || job->generation != h.generation)
    return; // stopped or failed meanwhile
  // The loss is an input of the run: replay re-drives it from this note.
  trace::note(self, "worker_lost", {std::int64_t(h.job_id), h.kind, h.index, h.row_begin});
  auto kind = work_kind(h.kind);
  auto key = std::make_pair(h.kind, std::int64_t(kind == work_kind::flat_band ? h.row_begin
                                                                             : h.index));
  bool again = job->losses[key]++ > 0;
  auto why = self->system().render(reason);
  if (kind == work_kind::segment && job->current == reader_job::phase::frames) {
    auto& name = job->plan.frames[h.index];
    if (!again) {
      spdlog::warn("worker_lost job={} frame={} action=requeue reason=\"{}\"", h.job_id,
                   name, why);
      // Ahead of the frames already read, so it is the very next one out.
      job->read_ahead.push_front(frame_item(*job, h.index));
    } else {
      spdlog::error("worker_lost job={} frame={} action=fail reason=\"{}\"", h.job_id, name,
                    why);
      frame_result r;
      r.job_id = h.job_id;
      r.generation = h.generation;
      r.kind = h.kind;
      r.index = h.index;
      r.name = name;
      r.ok = false;
      r.error = "worker lost twice while segmenting " + frame_path(job->plan, h.index);
      self->send(st.cfg.exporter, std::move(r));
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
      finish_flat_decodes(self, *job);
  } else if (kind == work_kind::flat_band && job->current == reader_job::phase::flat_bands) {
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

// Restarts worker `who`, whose item overran the time limit: an in-process
// worker cannot be interrupted mid-step, so a replacement takes its place
// and the old one quits at its next pull; a worker process is told to exit
// (its supervisor, usually serve, starts it again).
void restart_worker(self_ptr self, const caf::actor_addr& who, const std::string& why) {
  auto& st = self->state;
  st.abandoned.insert(who);
  if (who.node() == self->node()) {
    auto me = caf::actor_cast<reader_actor>(self);
    st.replacements.push_back(
      self->spawn<caf::detached + caf::linked>(segment_worker, me, st.cfg.exporter));
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

// Items held longer than pipeline.frame_timeout_s are abandoned: a frame
// fails (not retried: it would most likely overrun again), a flat step
// fails the job (a late worker could still write into the shared stack),
// and the worker is restarted.
void abandon_overdue(self_ptr self) {
  auto& st = self->state;
  auto limit = std::chrono::duration<double>(st.cfg.frame_timeout_s);
  auto now = clock_type::now();
  std::vector<std::pair<caf::actor_addr, held_item>> overdue;
  for (auto& [who, h] : st.held)
    if (now - h.since > limit)
      overdue.emplace_back(who, h);
  for (auto& [who, h] : overdue) {
    st.held.erase(who);
    auto* job = find_job(self, h.job_id);
    auto seconds = fmt::format("{:g}", st.cfg.frame_timeout_s);
    if (job == nullptr || job->generation != h.generation) {
      restart_worker(self, who, "overran pipeline.frame_timeout_s = " + seconds
                                  + " s on a stopped job");
      continue;
    }
    auto kind = work_kind(h.kind);
    std::string what;
    if (kind == work_kind::segment)
      what = "segmenting " + frame_path(job->plan, h.index);
    else if (kind == work_kind::flat_decode)
      what = "decoding flat frame " + frame_path(job->plan, job->window->frame(h.index));
    else
      what = "computing flat rows " + std::to_string(h.row_begin) + "-"
             + std::to_string(h.row_end);
    auto why = "still " + what + " after pipeline.frame_timeout_s = " + seconds
               + " s; abandoned, its worker restarted";
    spdlog::error("frame_timeout job={} {} seconds={}", h.job_id,
                  kind == work_kind::segment ? "frame=" + job->plan.frames[h.index]
                                             : "flat_step=" + std::to_string(h.index),
                  seconds);
    restart_worker(self, who, why);
    if (kind == work_kind::segment) {
      frame_result r;
      r.job_id = h.job_id;
      r.generation = h.generation;
      r.kind = h.kind;
      r.index = h.index;
      r.name = job->plan.frames[h.index];
      r.ok = false;
      r.error = why;
      self->send(st.cfg.exporter, std::move(r));
    } else {
      fail_job(self, *job, "flat field: " + why);
    }
  }
  serve_waiting(self);
}

// Decides the acquisition's frame size from the headers of the flat window's
// frames (the most common size; ties go to the earliest frame), reading
// further frames only when none of those is a usable JPEG. Keeps the bytes
// read for the decodes.
bool size_frames(reader_job& job, std::string& problem) {
  auto& plan = job.plan;
  auto& w = *job.window;
  std::map<std::pair<int, int>, std::pair<int, std::uint32_t>> votes; // size -> count, first
  auto look = [&](std::uint32_t frame, bool keep) {
    double ms = 0;
    std::vector<std::uint8_t> bytes;
    try {
      bytes = read_frame(plan, plan.frames[frame], ms);
    } catch (const std::exception& e) {
      if (problem.empty())
        problem = e.what();
      return;
    }
    auto info = kernels::probe_jpeg(bytes.data(), bytes.size());
    if (!info || kernels::pixels(info->coded) > plan.params.max_frame_pixels) {
      if (problem.empty())
        problem = frame_path(plan, frame)
                  + (info ? ": exceeds pipeline.max_frame_pixels" : ": not a JPEG image");
    } else {
      auto& v = votes[{info->decoded.width, info->decoded.height}];
      if (v.first++ == 0)
        v.second = frame;
    }
    if (keep)
      job.flat_bytes[frame] = std::move(bytes);
  };
  for (std::size_t s = 0; s < w.slots(); ++s)
    look(w.frame(s), true);
  for (auto f = std::uint32_t(w.slots()); votes.empty() && f < plan.frames.size(); ++f)
    look(f, false);
  if (votes.empty())
    return false;
  auto best = votes.begin();
  for (auto it = votes.begin(); it != votes.end(); ++it)
    if (it->second.first > best->second.first
        || (it->second.first == best->second.first && it->second.second < best->second.second))
      best = it;
  job.frame_width = best->first.first;
  job.frame_height = best->first.second;
  return true;
}

void start_flat(self_ptr self, reader_job& job) {
  auto& plan = job.plan;
  if (job.flat_from)
    job.window.emplace(kernels::recalc_flat_indices(*job.flat_from, plan.frames.size()),
                       plan.frames.size());
  else
    job.window.emplace(plan.frames.size(), plan.flat_frames.size());
  std::string problem;
  // A recalculated flat keeps the size the first flat decided.
  if (job.frame_width == 0 && !size_frames(job, problem))
    return fail_job(self, job, "flat field: no frame of the acquisition is a usable JPEG ("
                                 + problem + ")");
  try {
    auto count = int(job.window->slots());
    job.stack = shm::image_segment::create(
      shm::segment_name(plan.id, job.generation, "stack"), job.frame_height, job.frame_width,
      CV_8UC3, count);
    job.flat = shm::image_segment::create(
      shm::segment_name(plan.id, job.generation, "flat"), job.frame_height, job.frame_width,
      CV_8UC3, 1);
  } catch (const std::exception& e) {
    return fail_job(self, job, e.what());
  }
  job.current = reader_job::phase::flat_decode;
  job.flat_started = clock_type::now();
  for (std::uint32_t i = 0; i < job.window->slots(); ++i)
    job.decodes.push_back(i);
  spdlog::info("flat_started job={} frames={} size={}x{}", plan.id, job.window->slots(),
               job.frame_width, job.frame_height);
  serve_waiting(self);
}

// Logs that job's flat is now frame j's recalculation window.
void log_recalculated(const reader_job& job, std::uint32_t redo) {
  auto& w = *job.window;
  spdlog::info("flat_recalculated job={} frame={} index={} window={}-{} frames={} "
               "generation={} redo={}",
               job.plan.id, job.plan.frames[*job.flat_from], *job.flat_from, w.frame(0),
               w.frame(w.slots() - 1), w.slots(), job.generation, redo);
}

// A job with the recalculation heuristic: the exporter evaluates it in frame
// order and says which flat the run starts with (a resumed run may start
// with a recalculated one); the flat starts on its answer.
void ask_recalc(self_ptr self, reader_job& job) {
  job.current = reader_job::phase::recalc_asked;
  job.todo.assign(job.frames.begin(), job.frames.end());
  auto id = job.plan.id;
  self->request(self->state.cfg.exporter, std::chrono::seconds(60), atom::recalc::value, id)
    .then(
      [=](std::uint32_t generation, std::uint32_t from) {
        auto* job = find_job(self, id);
        if (job == nullptr || job->current != reader_job::phase::recalc_asked)
          return;
        job->generation = generation;
        if (from < job->plan.frames.size())
          job->flat_from = from;
        start_flat(self, *job);
        if (job->flat_from && job->current != reader_job::phase::stopped)
          log_recalculated(*job, 0);
      },
      [=](caf::error& err) {
        if (auto* job = find_job(self, id))
          fail_job(self, *job, "flat recalculation: " + self->system().render(err));
      });
}

// The exporter found frame from - 1 dense (SPEC §2.1): the flat of frame
// `from`'s window becomes generation `generation`, and every frame from
// `from` on that is not committed is handed out again with it, those in
// flight or done included (their results are of the old generation).
void recalculate_flat(self_ptr self, std::uint64_t id, std::uint32_t generation,
                      std::uint32_t from) {
  auto* job = find_job(self, id);
  if (job == nullptr || generation <= job->generation || from >= job->plan.frames.size()
      || job->current == reader_job::phase::stopped
      || job->current == reader_job::phase::opened
      || job->current == reader_job::phase::recalc_asked)
    return;
  std::set<std::uint32_t> not_out(job->frames.begin(), job->frames.end());
  for (auto& item : job->read_ahead)
    not_out.insert(item.index);
  std::uint32_t redo = 0;
  job->frames.clear();
  for (auto k : job->todo) {
    if (k < from)
      continue;
    redo += not_out.count(k) == 0 ? 1 : 0;
    job->frames.push_back(k);
  }
  job->read_ahead.clear();
  job->generation = generation;
  job->flat_from = from;
  if (job->flat)
    job->previous_flat = std::move(job->flat);
  job->stack.reset();
  job->window.reset();
  job->decodes.clear();
  job->bands.clear();
  job->outstanding = 0;
  job->stack_used = 0;
  job->flat_bytes.clear();
  job->first_flat_problem.clear();
  start_flat(self, *job);
  if (job->current != reader_job::phase::stopped)
    log_recalculated(*job, redo);
}

void flat_step_done(self_ptr self, const frame_result& r) {
  auto* job = find_job(self, r.job_id);
  if (job == nullptr || job->generation != r.generation
      || (job->current != reader_job::phase::flat_decode
          && job->current != reader_job::phase::flat_bands))
    return; // stale: the job was stopped or failed
  --job->outstanding;
  if (job->current == reader_job::phase::flat_decode) {
    if (work_kind(r.kind) != work_kind::flat_decode)
      return;
    if (r.ok)
      job->window->accept(r.index);
    else
      flat_frame_bad(*job, r.index, r.error);
    if (job->decodes.empty() && job->outstanding == 0)
      finish_flat_decodes(self, *job);
    serve_waiting(self);
    return;
  }
  if (!r.ok)
    return fail_job(self, *job, "flat field: " + r.error);
  if (!job->bands.empty() || job->outstanding > 0)
    return;
  job->stack.reset(); // the frames the flat came from are no longer needed
  job->current = reader_job::phase::frames;
  auto ms = ms_since(job->flat_started);
  spdlog::info("flat_ready job={} generation={} ms={:.1f}", job->plan.id, job->generation, ms);
  // As the reference, a recalculated flat is not announced.
  bool superseding = job->previous_flat != nullptr;
  job->previous_flat.reset();
  if (superseding)
    return serve_waiting(self);
  job_event ev;
  ev.kind = std::uint8_t(event_kind::flat_ready);
  ev.job_id = job->plan.id;
  ev.path = job->plan.acquisition;
  ev.state = std::uint8_t(job_state::running);
  ev.frames_total = std::uint32_t(job->plan.frames.size());
  ev.ms = ms;
  self->send(self->state.hub, ev);
  serve_waiting(self);
}

// Refuses metadata that would make the EcoTaxa archive fail to import
// (column names, value lengths, too many columns, ids), before any frame is
// segmented: a TSV of one object is made from it exactly as the exporter
// will, and checked.
void check_ecotaxa_metadata(const job_plan& plan, const nlohmann::ordered_json& filtered,
                            const std::filesystem::path& meta_file) {
  io::process_fields process;
  process.datetime = io::utc_isoformat_now();
  process.uuid = "00000000-0000-4000-8000-000000000000";
  process.id = io::make_process_id(filtered, plan.process_id.empty() ? process.uuid
                                                                      : plan.process_id);
  process.remove_previous_mask = plan.params.remove_previous_mask;
  std::string longest;
  for (auto& f : plan.frames)
    if (f.size() > longest.size())
      longest = f;
  io::tsv_object obj;
  obj.name = io::object_name(plan, longest, 0);
  io::tsv_options opts;
  opts.scaled_units = plan.params.pixel_size_um > 0;
  auto tsv = io::make_ecotaxa_tsv(filtered, process, {obj}, opts);
  auto problems = io::validate_ecotaxa_tsv(
    io::output_layout(plan).tsv_name(), tsv,
    [](const std::string&) { return std::optional<std::string>("\xFF\xD8\xFF"); });
  if (problems.empty())
    return;
  std::string text;
  for (auto& p : problems)
    text += (text.empty() ? "" : "; ") + io::to_string(p);
  throw std::runtime_error(meta_file.string()
                           + ": the EcoTaxa archive would not import (fix metadata.json or "
                             "set export.ecotaxa = false): "
                           + text);
}

} // namespace

flat_window::flat_window(std::size_t frame_count, std::size_t flat_frames)
  : frame_count_(frame_count) {
  for (auto i : kernels::initial_flat_indices(frame_count, flat_frames)) {
    frames_.push_back(std::uint32_t(i));
    states_.push_back(slot_state::pending);
  }
  next_ = frames_.size();
}

flat_window::flat_window(const std::vector<std::size_t>& frames, std::size_t frame_count)
  : frame_count_(frame_count) {
  for (auto i : frames) {
    frames_.push_back(std::uint32_t(i));
    states_.push_back(slot_state::pending);
  }
  next_ = frames.empty() ? 0 : frames.back() + 1;
}

std::size_t flat_window::slots() const {
  return frames_.size();
}

std::uint32_t flat_window::frame(std::size_t slot) const {
  return frames_.at(slot);
}

std::optional<std::uint32_t> flat_window::replace(std::size_t slot) {
  if (states_.at(slot) != slot_state::pending)
    return std::nullopt; // already settled: a repeated report changes nothing
  ++bad_;
  if (next_ >= frame_count_) {
    states_[slot] = slot_state::dropped;
    return std::nullopt;
  }
  frames_[slot] = std::uint32_t(next_++);
  return frames_[slot];
}

void flat_window::accept(std::size_t slot) {
  if (states_.at(slot) == slot_state::pending)
    states_[slot] = slot_state::good;
}

bool flat_window::complete() const {
  return std::none_of(states_.begin(), states_.end(),
                      [](slot_state s) { return s == slot_state::pending; });
}

std::vector<std::size_t> flat_window::chosen() const {
  std::vector<std::size_t> good;
  bool dropped = false;
  for (std::size_t s = 0; s < states_.size(); ++s) {
    if (states_[s] == slot_state::good)
      good.push_back(s);
    dropped = dropped || states_[s] == slot_state::dropped;
  }
  std::sort(good.begin(), good.end(),
            [&](std::size_t a, std::size_t b) { return frames_[a] < frames_[b]; });
  if (dropped) // every frame was tried: the SPEC §2.1 count of the good ones
    good.resize(kernels::initial_flat_indices(good.size(), frames_.size()).size());
  return good;
}

std::size_t flat_window::bad_frames() const {
  return bad_;
}

namespace {

// The job's settings: the reader's sources with the job's overrides on top.
config::settings job_settings(const job_spec& spec, const config::sources& base) {
  auto src = base;
  for (auto& o : spec.overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos)
      throw std::runtime_error("job setting '" + o + "' is not key=value");
    src.overrides.emplace_back(o.substr(0, eq), o.substr(eq + 1));
  }
  return config::load(src);
}

} // namespace

job_plan resolve_plan(const job_spec& spec, const config::sources& base) {
  auto st = job_settings(spec, base);
  auto acq = io::open_acquisition(spec.path);
  if (acq.frames.empty())
    throw std::runtime_error(acq.dir.string()
                             + ": no frames (files ending in jpg, JPG, jpeg or JPEG)");
  auto meta_file = acq.dir / "metadata.json";
  auto meta = io::read_metadata(meta_file);
  auto filtered = io::filter_metadata(meta);

  job_plan plan;
  plan.id = spec.id;
  plan.acquisition = acq.dir.string();
  plan.data_root = acq.data_root.string();
  plan.rel = acq.rel.string();
  plan.frames = acq.frames;
  for (auto i : kernels::initial_flat_indices(acq.frames.size(),
                                              std::size_t(st.segmentation.flat_frames)))
    plan.flat_frames.push_back(std::uint32_t(i));
  plan.metadata_json = filtered.dump();
  plan.sample_project = io::python_str_json(meta["sample_project"]);
  plan.sample_id = io::python_str_json(meta["sample_id"]);
  plan.acq_id = io::python_str_json(meta["acq_id"]);
  // Ids end up in file names: refuse what could escape the data root.
  io::safe_file_component(plan.acq_id, "acq_id in " + meta_file.string());
  io::safe_file_component(plan.sample_id, "sample_id in " + meta_file.string());
  plan.profile = config::to_string(st.run_profile);
  plan.object_ids = config::to_string(st.exports.ids);
  plan.process_id = st.exports.process_id;
  plan.ecotaxa = st.exports.ecotaxa;
  plan.force = spec.force;
  auto& p = plan.params;
  p.min_esd_px = st.segmentation.min_esd;
  p.pixel_size_um = 0;
  p.crop_margin = st.segmentation.crop_margin;
  p.jpeg_quality = st.segmentation.crop_jpeg_quality;
  p.remove_previous_mask = st.segmentation.remove_previous_mask;
  p.max_frame_pixels = st.pipeline.max_frame_pixels;
  if (st.segmentation.size_units == config::units::micrometres) {
    auto px = io::parse_process_pixel(meta);
    if (px.um_per_px) {
      p.pixel_size_um = *px.um_per_px;
      p.min_esd_px = st.segmentation.min_esd / *px.um_per_px;
    } else if (st.segmentation.require_process_pixel) {
      throw std::runtime_error(meta_file.string() + ": " + px.reason
                               + " (segmentation.require_process_pixel is set: sizes in "
                                 "µm need process_pixel > 0)");
    } else {
      plan.warnings.push_back(meta_file.string() + ": " + px.reason
                              + "; sizes are in pixels");
    }
  }
  if (plan.ecotaxa)
    check_ecotaxa_metadata(plan, filtered, meta_file);
  return plan;
}

reader_actor::behavior_type reader(reader_actor::stateful_pointer<reader_state> self,
                                   reader_config cfg, queue_actor queue,
                                   status_hub_actor hub) {
  self->state.cfg = std::move(cfg);
  self->state.queue = std::move(queue);
  self->state.hub = std::move(hub);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    st.abandoned.erase(msg.source);
    for (auto it = st.supervisors.begin(); it != st.supervisors.end(); ++it)
      if (it->second.address() == msg.source) {
        st.supervisors.erase(it);
        return;
      }
    worker_lost(self, msg.source, msg.reason);
  });
  return trace::traced_all(self,
    [=](atom::open, const job_spec& spec) -> caf::result<job_plan> {
      try {
        auto plan = resolve_plan(spec, self->state.cfg.base);
        reader_job job;
        job.plan = plan;
        job.flat_recalculate =
          job_settings(spec, self->state.cfg.base).segmentation.flat_recalculate;
        self->state.jobs.push_back(std::move(job));
        return plan;
      } catch (const std::exception& e) {
        return caf::make_error(caf::sec::runtime_error, std::string{e.what()});
      }
    },
    [=](atom::run, std::uint64_t id, const frame_indices& skip) {
      auto* job = find_job(self, id);
      if (job == nullptr || job->current != reader_job::phase::opened)
        return;
      std::set<std::uint32_t> done(skip.begin(), skip.end());
      for (std::uint32_t i = 0; i < job->plan.frames.size(); ++i)
        if (done.count(i) == 0)
          job->frames.push_back(i);
      if (job->frames.empty()) {
        job->current = reader_job::phase::stopped; // all committed before
        return;
      }
      if (job->flat_recalculate)
        return ask_recalc(self, *job);
      start_flat(self, *job);
    },
    [=](atom::work) -> caf::result<work_item> {
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (self->state.abandoned.erase(who) > 0) {
        work_item quit; // it was replaced while it overran
        quit.kind = std::uint8_t(work_kind::shutdown);
        return quit;
      }
      worker_asks(self, who);
      serve_waiting(self); // its finished frame may lift the window for parked ones
      if (auto item = next_work(self)) {
        hold(self, who, *item);
        schedule_prefetch(self);
        return std::move(*item);
      }
      auto rp = self->make_response_promise<work_item>();
      self->state.waiting.push_back({who, rp});
      return rp;
    },
    [=](const frame_result& r) {
      // A flat step's result ends its worker's hold, as a pull would.
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (self->state.abandoned.count(who) > 0)
        return; // too late: the job failed without it
      self->state.held.erase(who);
      flat_step_done(self, r);
    },
    [=](atom::reflat, std::uint64_t id, std::uint32_t generation, std::uint32_t from) {
      recalculate_flat(self, id, generation, from);
    },
    [=](atom::stop, std::uint64_t id) {
      auto& st = self->state;
      auto& jobs = st.jobs;
      jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                                [id](const reader_job& j) { return j.plan.id == id; }),
                 jobs.end());
      // The queue stops its own workers; workers of other processes and
      // replacements are known here only.
      for (auto& w : st.replacements)
        self->send(w, atom::stop::value, id);
      for (auto& who : st.monitored)
        if (who.node() != self->node())
          if (auto w = caf::actor_cast<segment_worker_actor>(who))
            self->send(w, atom::stop::value, id);
    },
    [=](atom::join, caf::actor& supervisor) {
      if (!supervisor)
        return;
      spdlog::info("worker_supervisor_joined node={}", to_string(supervisor.node()));
      self->monitor(supervisor);
      self->state.supervisors[supervisor.node()] = std::move(supervisor);
    },
    [=](atom::tick) {
      self->state.tick_scheduled = false;
      abandon_overdue(self);
      if (!self->state.held.empty())
        schedule_tick(self);
    },
    [=](atom::prefetch) {
      auto& st = self->state;
      st.prefetch_scheduled = false;
      auto limit = std::size_t(st.cfg.reads_ahead) * std::max<std::uint32_t>(1, st.cfg.workers);
      for (auto& job : st.jobs) {
        if (job.current != reader_job::phase::frames || job.frames.empty())
          continue;
        if (job.read_ahead.size() >= limit)
          return;
        auto index = job.frames.front();
        job.frames.pop_front();
        job.read_ahead.push_back(frame_item(job, index));
        schedule_prefetch(self); // one read per message keeps the reader responsive
        return;
      }
    });
}

} // namespace seg
