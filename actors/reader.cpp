#include "actors/reader.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/report/thumbnail.hpp"
#include "actors/reader_internal.hpp"
#include "actors/segment_worker.hpp"
#include "actors/trace.hpp"
#include "shm/image_segment.hpp"

namespace seg::detail {

namespace {

using clock_type = std::chrono::steady_clock;

// With the recalculation heuristic the exporter settles frames in order and
// holds the results that are ahead of the lowest frame still in flight.
// Frames are handed out at most a window past that frame, which bounds what
// it holds (a slow or hung frame parks the workers until it ends or times
// out) and what a recalculation throws away.
bool beyond_window(reader_ptr self, const reader_job& job) {
  if (!job.flat_recalculate)
    return false;
  auto lowest = self->state.ledger.lowest_frame(job.plan.id, job.generation);
  if (!lowest)
    return false;
  auto next = !job.read_ahead.empty() ? job.read_ahead.front().index
              : !job.frames.empty()   ? job.frames.front()
                                      : *lowest;
  return next > *lowest + recalc_window(self->state.cfg);
}

// Whether `who` runs on a node that gets frames only (see frames_only_nodes).
bool frames_only(reader_ptr self, const caf::actor_addr& who) {
  return who && self->state.frames_only_nodes.count(who.node()) > 0;
}

// Paths mode: a frame for a worker on a node that verified it sees this
// job's files goes without its bytes (the worker reads the path itself).
void strip_bytes_for_paths_node(reader_ptr self, const caf::actor_addr& who, work_item& item) {
  if (item.kind != work_kind::segment || !who)
    return;
  auto it = self->state.path_jobs.find(who.node());
  if (it != self->state.path_jobs.end() && it->second.count(item.job_id) > 0)
    std::vector<std::uint8_t>().swap(item.bytes);
}

// The next piece of work of any job, earliest job first; nullopt if none.
// `frames_only`: no flat step (for a node without this host's shared memory).
std::optional<work_item> next_work(reader_ptr self, bool frames_only = false) {
  for (auto& job : self->state.jobs) {
    if (frames_only) {
      // Tiles are read from and into this host's shared memory.
      if (job.tiling && !job.told_remote_nodes) {
        job.told_remote_nodes = true;
        spdlog::warn("tiled_job_local_only job={} path={} (its tiles go only to workers that "
                     "share this host's shared memory: serve's own and --worker-processes; "
                     "nodes on other hosts wait)",
                     job.plan.id, job.plan.acquisition);
      }
      if (job.current == reader_job::phase::frames && !job.tiling && !beyond_window(self, job))
        if (auto item = next_frame(job)) {
          notify_if_drained(self, job);
          return item;
        }
      continue;
    }
    if (job.current == reader_job::phase::flat_decode) {
      if (auto item = next_flat_decode(job))
        return item;
      if (job.outstanding == 0)
        finish_decodes(self, job); // every frame tried was bad
    }
    switch (job.current) {
      case reader_job::phase::flat_bands:
        if (auto item = next_flat_band(job))
          return item;
        break;
      case reader_job::phase::frames:
        if (beyond_window(self, job))
          break;
        if (job.tiling) {
          if (auto item = next_tiled(self, job)) {
            notify_if_drained(self, job);
            return item;
          }
          break;
        }
        if (auto item = next_frame(job)) {
          notify_if_drained(self, job);
          return item;
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

void schedule_prefetch(reader_ptr self) {
  if (!self->state.prefetch_scheduled) {
    self->state.prefetch_scheduled = true;
    self->send(self, atom::prefetch::value);
  }
}

// Notes that worker `who` holds `item` until it pulls again.
void hold(reader_ptr self, const caf::actor_addr& who, const work_item& item) {
  if (!who)
    return;
  self->state.ledger.hold(who, held_of(item, clock_type::now()));
  schedule_tick(self);
}

// A worker asks for work: its previous item is done, an older request of it
// timed out (its promise is stale), and it is monitored from now on.
// Frees the stack slots (and at last the stack) of the job's flat frames
// that no work item needs any more.
void release_stack_slots(reader_ptr self, reader_job& job) {
  if (job.current != reader_job::phase::frames)
    return;
  auto& ledger = self->state.ledger;
  auto id = job.plan.id;
  release_stacked(job, [&](std::uint32_t index) { return ledger.holds_frame(id, index); });
}

void worker_asks(reader_ptr self, const caf::actor_addr& who) {
  if (!who)
    return;
  auto& registry = self->state.cfg.registry;
  auto* held = self->state.ledger.held_by(who);
  // A tiled frame counts for the node that read it (as the job's summary
  // counts it), not for each node that cut one of its tiles.
  bool frame_done = held != nullptr
                    && (held->kind == work_kind::segment || held->kind == work_kind::tile_read);
  std::uint32_t segmented = frame_done ? 1 : 0;
  bool first = self->state.ledger.asks(who);
  // The registry learns that the node is ready and counts its frames.
  if (registry && (first || segmented > 0))
    self->send(registry, atom::work::value, who.node(), segmented);
  drop_waiting(self, who);
  if (first)
    self->monitor(self->current_sender());
  // Its finished frame may have been the last user of a stack slot.
  for (auto& job : self->state.jobs)
    if (job.stack && !job.stacked.empty())
      release_stack_slots(self, job);
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
void ask_recalc(reader_ptr self, reader_job& job) {
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
        begin_flat(self, *job);
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
void recalculate_flat(reader_ptr self, std::uint64_t id, std::uint32_t generation,
                      std::uint32_t from) {
  auto* job = find_job(self, id);
  if (job == nullptr || generation <= job->generation || from >= job->plan.frames.size()
      || job->current == reader_job::phase::stopped
      || job->current == reader_job::phase::opened
      || job->current == reader_job::phase::recalc_asked)
    return;
  auto redo = restart_flat(*job, generation, from);
  begin_flat(self, *job);
  if (job->current != reader_job::phase::stopped)
    log_recalculated(*job, redo);
}

// The reports show the first flat; the full one lives in shared memory only.
void save_flat_thumbnail(const reader_job& job) {
  try {
    io::output_layout layout(job.plan);
    auto file = io::report::flat_thumbnail_file(layout.objects_dir());
    io::make_owned_dirs(layout.data_root(), file.parent_path());
    io::report::write_flat_thumbnail(job.flat->image(), file);
  } catch (const std::exception& e) {
    spdlog::warn("flat_thumbnail_failed job={} error=\"{}\"", job.plan.id, e.what());
  }
}

void flat_step_done(reader_ptr self, const frame_result& r) {
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
      finish_decodes(self, *job);
    serve_waiting(self);
    return;
  }
  if (!r.ok && work_kind(r.kind) == work_kind::flat_stream) {
    // A frame of the streamed flat is corrupt past its headers: replaced.
    if (auto why = streamed_flat_frame_bad(*job, r.index, r.error))
      return fail_job(self, *job, *why);
    return serve_waiting(self);
  }
  if (!r.ok)
    return fail_job(self, *job, "flat field: " + r.error);
  if (!job->bands.empty() || job->outstanding > 0)
    return;
  job->current = reader_job::phase::frames;
  // The flat's frames are segmented from the stack: it goes slot by slot.
  release_stack_slots(self, *job);
  auto ms = ms_since(job->flat_started);
  spdlog::info("flat_ready job={} generation={} ms={:.1f}", job->plan.id, job->generation, ms);
  // As the reference, a recalculated flat is not announced.
  bool superseding = job->previous_flat != nullptr;
  job->previous_flat.reset();
  if (!job->flat_from)
    save_flat_thumbnail(*job);
  if (superseding)
    return serve_waiting(self);
  job_event ev;
  ev.kind = event_kind::flat_ready;
  ev.job_id = job->plan.id;
  ev.path = job->plan.acquisition;
  ev.state = job_state::running;
  ev.frames_total = std::uint32_t(job->plan.frames.size());
  ev.ms = ms;
  ev.op_id = job->op_id;
  self->send(self->state.hub, ev);
  serve_waiting(self);
}

} // namespace

// Tells the queue when a job's last frame is handed out, so it can prepare
// the next job while the last frames are in flight.
void notify_if_drained(reader_ptr self, const reader_job& job) {
  if (drained(job))
    self->send(self->state.queue, atom::drained::value, job.plan.id);
}

void begin_flat(reader_ptr self, reader_job& job) {
  if (!begin_flat_when_ready(self, job))
    return;
  if (auto why = start_flat(job))
    return fail_job(self, job, *why);
  serve_waiting(self);
}

reader_job* find_job(reader_ptr self, std::uint64_t id) {
  for (auto& j : self->state.jobs)
    if (j.plan.id == id)
      return &j;
  return nullptr;
}

void fail_job(reader_ptr self, reader_job& job, const std::string& why) {
  spdlog::error("job_failed job={} path={} error=\"{}\"", job.plan.id,
                job.plan.acquisition, why);
  job.current = reader_job::phase::stopped;
  job.stack.reset();
  job.flat.reset();
  job.previous_flat.reset();
  job.flat_bytes.clear();
  self->send(self->state.queue, atom::failed::value, job.plan.id, why);
}

void finish_decodes(reader_ptr self, reader_job& job) {
  if (auto why = finish_flat_decodes(job, self->state.cfg.workers))
    fail_job(self, job, *why);
}

void serve_waiting(reader_ptr self) {
  auto& st = self->state;
  // In arrival order; a frames-only worker may get nothing while a worker
  // behind it gets a flat step, so each is tried once.
  for (std::size_t i = 0; i < st.waiting.size();) {
    bool only_frames = frames_only(self, st.waiting[i].who);
    auto item = next_work(self, only_frames);
    if (!item) {
      if (!only_frames)
        break; // nothing at all is left
      ++i;
      continue;
    }
    auto w = std::move(st.waiting[i]);
    st.waiting.erase(st.waiting.begin() + std::ptrdiff_t(i));
    strip_bytes_for_paths_node(self, w.who, *item);
    hold(self, w.who, *item);
    w.rp.deliver(std::move(*item));
  }
  schedule_prefetch(self);
}

void drop_waiting(reader_ptr self, const caf::actor_addr& who) {
  auto& waiting = self->state.waiting;
  waiting.erase(std::remove_if(waiting.begin(), waiting.end(),
                               [&](const waiting_worker& w) { return w.who == who; }),
                waiting.end());
}

} // namespace seg::detail

namespace seg {

using namespace detail;

caf::error validate(const reader_config& cfg) {
  auto refuse = [](const char* why) {
    return caf::make_error(caf::sec::invalid_argument, std::string("reader: ") + why);
  };
  if (cfg.reads_ahead < 1)
    return refuse("reads_ahead must be at least 1");
  if (!(cfg.frame_timeout_s >= 0) || !std::isfinite(cfg.frame_timeout_s))
    return refuse("frame_timeout_s must be finite and >= 0 (0: no limit)");
  return {};
}

reader_actor::behavior_type reader(reader_actor::stateful_pointer<reader_state> self,
                                   reader_config cfg, queue_actor queue,
                                   status_hub_actor hub) {
  self->state.cfg = std::move(cfg);
  self->state.queue = std::move(queue);
  self->state.hub = std::move(hub);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto it = st.supervisors.begin(); it != st.supervisors.end(); ++it)
      if (it->second.address() == msg.source) {
        st.path_jobs.erase(it->first);
        // A node's link is down (or its process ended): the node is lost.
        if (st.cfg.registry)
          self->send(st.cfg.registry, atom::lost::value, it->first,
                     self->system().render(msg.reason));
        st.supervisors.erase(it);
        return;
      }
    worker_lost(self, msg.source, msg.reason);
  });
  return trace::traced_all(self,
    [=](atom::open, const job_spec& spec) -> caf::result<job_plan> {
      try {
        auto setup = resolve_job(spec, self->state.cfg.base);
        reader_job job;
        job.plan = setup.plan;
        job.flat_recalculate = setup.flat_recalculate;
        job.following = setup.follow;
        job.follow_idle_s = setup.follow_idle_s;
        job.flat_frames = setup.flat_frames;
        job.tiling_cfg = setup.tiling;
        job.decode_once = self->state.cfg.decode_once;
        job.decode_band_rows = self->state.cfg.decode_band_rows;
        job.last_growth = std::chrono::steady_clock::now();
        // Sent before the reply, so the exporter knows before the queue's
        // begin: it must not finish the job when the frames listed so far
        // are done.
        if (job.following)
          self->send(self->state.cfg.exporter, atom::follow::value, job.plan.id,
                     std::uint32_t(job.plan.frames.size()), false);
        self->state.jobs.push_back(std::move(job));
        return std::move(setup.plan);
      } catch (const std::exception& e) {
        return make_error(ec::not_an_acquisition, std::string{e.what()});
      }
    },
    [=](atom::run, std::uint64_t id, const frame_indices& skip, const std::string& op_id) {
      auto* job = find_job(self, id);
      if (job == nullptr || job->current != reader_job::phase::opened)
        return;
      job->op_id = op_id;
      std::set<std::uint32_t> done(skip.begin(), skip.end());
      for (std::uint32_t i = 0; i < job->plan.frames.size(); ++i)
        if (done.count(i) == 0)
          job->frames.push_back(i);
      if (job->frames.empty() && !job->following) {
        job->current = reader_job::phase::stopped; // all committed before
        return;
      }
      if (job->following)
        schedule_poll(self);
      if (job->flat_recalculate)
        return ask_recalc(self, *job);
      begin_flat(self, *job);
    },
    [=](atom::work) -> caf::result<work_item> {
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (self->state.ledger.forgive(who)) {
        work_item quit; // it was replaced while it overran
        quit.kind = work_kind::shutdown;
        return quit;
      }
      worker_asks(self, who);
      serve_waiting(self); // its finished frame may lift the window for parked ones
      if (auto item = next_work(self, frames_only(self, who))) {
        strip_bytes_for_paths_node(self, who, *item);
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
      if (self->state.ledger.abandoned(who))
        return; // too late: the job failed without it
      self->state.ledger.release(who);
      if (r.kind == work_kind::tile_read)
        return tiled_frame_read(self, r);
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
      st.ledger.forget_job(id);
      // The queue stops its own workers; workers of other processes and
      // replacements are known here only.
      auto workers = st.replacements;
      for (auto& who : st.ledger.workers())
        if (who.node() != self->node())
          if (auto w = caf::actor_cast<segment_worker_actor>(who))
            workers.push_back(w);
      stop_workers(self, workers, id);
    },
    [=](atom::join, caf::actor& supervisor, bool shares_memory) {
      if (!supervisor)
        return;
      spdlog::info("worker_supervisor_joined node={} shares_memory={}",
                   to_string(supervisor.node()), shares_memory);
      if (!shares_memory)
        self->state.frames_only_nodes.insert(supervisor.node());
      self->monitor(supervisor);
      self->state.supervisors[supervisor.node()] = std::move(supervisor);
    },
    [=](atom::paths, std::uint64_t id, const std::string& file, const std::string& problem) {
      auto from = self->current_sender();
      if (!from)
        return;
      auto node = to_string(from->node());
      if (problem.empty()) {
        self->state.path_jobs[from->node()].insert(id);
        spdlog::info("node_paths job={} node={} mode=paths verified=\"{}\"", id, node, file);
      } else {
        spdlog::warn("node_paths job={} node={} mode=bytes reason=\"{}\"", id, node, problem);
      }
    },
    [=](atom::seal, std::uint64_t id) {
      if (auto* job = find_job(self, id))
        seal_job(self, *job);
    },
    [=](atom::poll) {
      self->state.poll_scheduled = false;
      poll_followed(self);
    },
    [=](atom::stitched, std::uint64_t id, std::uint32_t generation, std::uint32_t index) {
      tiled_frame_stitched(self, id, generation, index);
    },
    [=](atom::tick) {
      self->state.tick_scheduled = false;
      abandon_overdue(self);
      if (self->state.ledger.holding())
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
