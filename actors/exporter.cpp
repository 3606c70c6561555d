#include "actors/exporter.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/trace.hpp"
#include "actors/frame_commit.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/ecotaxa/ecotaxa_export.hpp"
#include "actors/io/export_lock.hpp"
#include "actors/io/frame_names.hpp"
#include "actors/io/frame_record.hpp"
#include "actors/test_fault.hpp"
#include "actors/tile_stitcher.hpp"
#include "kernels/flat_field.hpp"

namespace fs = std::filesystem;

namespace seg {

namespace {

using clock_type = std::chrono::steady_clock;
using self_ptr = exporter_actor::stateful_pointer<exporter_state>;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

job_summary summary_of(const export_job& job, job_state state, std::string error) {
  job_summary s;
  s.id = job.plan.id;
  s.path = job.plan.acquisition;
  s.state = state;
  s.frames_total = std::uint32_t(job.plan.frames.size());
  s.frames_done = std::uint32_t(job.committed.size());
  s.frames_resumed = job.resumed;
  s.frames_failed = std::uint32_t(job.failed.size());
  s.objects = job.new_objects;
  s.seconds = ms_since(job.started) / 1000.0;
  s.error = std::move(error);
  for (auto& [index, why] : job.failures)
    s.failures.push_back(why);
  s.objects_dir = job.layout.objects_dir().string();
  s.stages = job.stages;
  s.op_id = job.op_id;
  for (auto& [node, frames] : job.frames_by_node)
    s.nodes.push_back({node, frames});
  return s;
}

// Reads every committed frame's record in frame order and writes the
// EcoTaxa export. Returns the total object count.
std::uint32_t export_job_outputs(export_job& job, std::string& zip_written) {
  auto& plan = job.plan;
  io::ecotaxa_objects objects;
  for (auto index : job.committed) {
    auto rec = io::read_frame_record(job.layout.record_file(plan.frames[index]));
    for (auto& obj : rec.objects)
      io::add_object(objects, plan, io::object_name(plan, rec.frame, std::uint32_t(obj.index)),
                     obj.features, obj.crop_file, job.layout.crop_file(obj.crop_file));
  }
  // A job without objects still gets its archive (the TSV's two header
  // rows, which EcoTaxa imports as an empty acquisition): no archive would
  // look like a failed export.
  if (objects.rows.empty())
    spdlog::warn("job_no_objects job={} acquisition=\"{}\" frames={}", plan.id,
                 plan.acquisition, job.committed.size());
  io::export_identity identity;
  if (job.op && job.op->scope)
    identity = {job.op->scope->process_datetime, job.op->scope->process_uuid};
  zip_written = io::write_ecotaxa_export(plan, job.layout, objects, identity);
  return std::uint32_t(objects.rows.size());
}

// The run ended before (or instead of) its export: a clean end.
void end_op(self_ptr self, export_job& job, io::op_state state, const std::string& error) {
  if (job.op && self->state.journal)
    io::end_operation(*self->state.journal, *job.op, state, error);
  job.op.reset();
}

void send_event(self_ptr self, const export_job& job, event_kind kind,
                std::uint32_t index, std::uint32_t objects, double ms,
                std::string message, std::string node = {}) {
  job_event ev;
  ev.kind = kind;
  ev.job_id = job.plan.id;
  ev.path = job.plan.acquisition;
  ev.state = job_state::running;
  ev.frame_index = index;
  ev.frame_name = index < job.plan.frames.size() ? job.plan.frames[index] : "";
  ev.frames_total = std::uint32_t(job.plan.frames.size());
  ev.frames_done = std::uint32_t(job.committed.size());
  ev.objects = objects;
  ev.ms = ms;
  ev.elapsed_s = ms_since(job.started) / 1000.0;
  ev.message = std::move(message);
  ev.op_id = job.op_id;
  ev.node = std::move(node);
  self->send(self->state.hub, ev);
}

// All frames are accounted for: export and report. With failed frames the
// job is partial: the good frames' objects are exported all the same (that
// archive is what a user wants of them), but no done.txt is written, so a
// rerun retries the failed frames only and nothing mistakes it for a
// complete run.
void complete(self_ptr self, std::uint64_t id) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end())
    return;
  auto& job = it->second;
  if (job.tiled)
    self->send(self->state.stitcher, atom::stop::value, id);
  auto t0 = clock_type::now();
  job_summary summary;
  auto* journal = self->state.journal ? &*self->state.journal : nullptr;
  bool writing = false; // the scope is recorded and locked: a failure leaves it
  try {
    if (journal && job.op) {
      std::vector<std::string> records;
      for (auto index : job.committed)
        records.push_back(job.layout.record_file(job.plan.frames[index]).string());
      auto refusal = io::begin_export(*journal, *job.op, job.plan, job.layout,
                                      std::move(records));
      if (!refusal.empty())
        throw std::runtime_error(refusal);
      writing = true;
      inject_test_fault("export:begin");
    }
    std::string zip;
    auto total = export_job_outputs(job, zip);
    inject_test_fault("export:written");
    if (job.failed.empty())
      io::write_done_marker(job.layout);
    inject_test_fault("export:done");
    job.stages.export_ms += ms_since(t0);
    if (job.failed.empty())
      summary = summary_of(job, job_state::done, "");
    else
      summary = summary_of(job, job_state::partial,
                           std::to_string(job.failed.size()) + " of "
                             + std::to_string(job.plan.frames.size())
                             + " frames failed (no done.txt: a rerun retries them)");
    summary.objects = total;
    summary.zip = zip;
    end_op(self, job, io::op_state::success, "");
  } catch (const std::exception& e) {
    job.stages.export_ms += ms_since(t0);
    summary = summary_of(job, job_state::failed, std::string("export: ") + e.what());
    if (writing)
      io::fail_export(*journal, *job.op, e.what());
    else
      end_op(self, job, io::op_state::exception, e.what());
  }
  spdlog::info("job_exported job={} objects={} zip={} ms={:.1f}", id, summary.objects,
               summary.zip, job.stages.export_ms);
  if (job.in_order)
    spdlog::info("flat_recalc_summary job={} recalculations={} stale_results={} "
                 "held_max={}",
                 id, job.recalculations, job.stale, job.ahead_max);
  self->state.jobs.erase(it);
  self->send(self->state.queue, atom::finished::value, std::move(summary));
}

// The job follows an acquisition being written: `frames` so far.
void follow_job(export_job& job, std::uint32_t frames, bool sealed) {
  job.following = true;
  job.sealed = job.sealed || sealed;
  if (frames > job.plan.frames.size())
    job.plan.frames.resize(frames);
}



// Why a segmented frame cannot be committed: its names break a rule (a
// 240-character frame name). Checked here, where names are made, so that it
// holds for every way a frame arrives (resumed, recalculated, followed); the
// frame is segmented for nothing, which only such a frame costs.
std::optional<std::string> commit_problem(const export_job& job, const frame_result& r) {
  auto last = r.objects.empty() ? 0u : r.objects.back().index;
  for (auto& obj : r.objects)
    last = std::max(last, obj.index);
  return io::frame_name_problem(job.plan, r.name, last);
}

void record_failure(export_job& job, const frame_result& r) {
  job.failed.insert(r.index);
  job.failures[r.index] = r.name + ": " + r.error;
  try {
    nlohmann::ordered_json artifact;
    artifact["frame"] = r.name;
    artifact["frame_index"] = r.index;
    artifact["path"] = (fs::path(job.plan.acquisition) / r.name).string();
    artifact["error"] = r.error;
    artifact["job_id"] = job.plan.id;
    artifact["profile"] = job.plan.profile;
    artifact["settings"] = {{"min_esd_px", job.plan.params.min_esd_px},
                            {"pixel_size_um", job.plan.params.pixel_size_um},
                            {"crop_margin", job.plan.params.crop_margin},
                            {"max_frame_pixels", job.plan.params.max_frame_pixels}};
    artifact["time"] = io::utc_isoformat_now();
    io::make_owned_dirs(job.layout.data_root(), job.layout.errors_dir());
    io::write_file_atomic(job.layout.error_file(r.name), artifact.dump(2) + "\n");
  } catch (const std::exception& e) {
    spdlog::error("error_artifact_failed frame={} error=\"{}\"", r.name, e.what());
  }
}

// The commit failed (disk full): the job fails, nothing claims done.
void fail_commit(self_ptr self, export_job& job, const std::string& frame,
                 const std::exception& e) {
  auto summary = summary_of(job, job_state::failed, std::string("commit: ") + e.what());
  spdlog::error("commit_failed job={} frame={} error=\"{}\"", job.plan.id, frame, e.what());
  end_op(self, job, io::op_state::exception, std::string("commit: ") + e.what());
  auto id = job.plan.id;
  self->state.jobs.erase(id); // `job` is gone
  self->send(self->state.queue, atom::finished::value, std::move(summary));
}

// The worker's compute time for the frame (what its events report).
double compute_ms(const frame_result& r) {
  auto& t = r.timings;
  return t.decode_ms + t.correct_ms + t.mask_ms + t.label_ms + t.features_ms + t.crops_ms;
}

// A frame of this run is settled: counted for the node that segmented it.
void count_node(export_job& job, const frame_result& r) {
  if (!r.node.empty())
    ++job.frames_by_node[r.node];
}

void frame_committed(self_ptr self, export_job& job, const frame_result& r) {
  job.committed.insert(r.index);
  job.new_objects += std::uint32_t(r.objects.size());
  count_node(job, r);
  send_event(self, job, event_kind::frame_done, r.index, std::uint32_t(r.objects.size()),
             compute_ms(r), "", r.node);
}

// Commits the job's group of settled results, if any. Returns false when
// the commit failed: the job is then finished as failed and erased.
bool flush(self_ptr self, export_job& job) {
  if (job.group.empty())
    return true;
  auto t0 = clock_type::now();
  auto group = std::move(job.group);
  job.group.clear();
  ++job.group_seq;
  try {
    commit_frames(job.plan, job.layout, group);
  } catch (const std::exception& e) {
    fail_commit(self, job, group.front().name, e);
    return false;
  }
  job.stages.commit_ms += ms_since(t0);
  job.last_result += clock_type::now() - t0; // the commit is not exporter idle time
  for (auto& r : group)
    frame_committed(self, job, r);
  return true;
}

bool grouping(self_ptr self) {
  return self->state.commit_frames > 1;
}

// Every frame of the job is settled (committed, in the group or failed).
bool all_settled(const export_job& job) {
  if (job.following && !job.sealed)
    return false;
  return job.committed.size() + job.group.size() + job.failed.size()
         >= job.plan.frames.size();
}

// A settled result joins the job's group; the group is committed when it
// is full, when it holds the job's last frames, or when the window of its
// first result has passed (the flush timer). False: the job ended.
bool add_to_group(self_ptr self, export_job& job, frame_result r) {
  job.group.push_back(std::move(r));
  if (job.group.size() >= self->state.commit_frames || all_settled(job))
    return flush(self, job);
  if (job.group.size() == 1)
    self->delayed_send(self, self->state.commit_window, atom::flush::value, job.plan.id,
                       job.group_seq);
  return true;
}

// A late duplicate of a settled frame's result.
bool already_settled(const export_job& job, std::uint32_t index) {
  return job.committed.count(index) > 0 || job.failed.count(index) > 0
         || std::any_of(job.group.begin(), job.group.end(),
                        [index](const frame_result& r) { return r.index == index; });
}

void maybe_complete(self_ptr self, export_job& job) {
  if (!all_settled(job) || !flush(self, job))
    return;
  complete(self, job.plan.id);
}

// Commits (or records the failure of) one frame's result and publishes it.
// Returns false when the commit failed: the job is then finished as failed
// and erased.
bool settle(self_ptr self, export_job& job, frame_result& r) {
  job.stages.exporter_wait_ms += ms_since(job.last_result);
  auto t0 = clock_type::now();
  auto& t = r.timings;
  job.stages.read_ms += t.read_ms;
  job.stages.worker_wait_ms += t.wait_ms;
  job.stages.decode_ms += t.decode_ms;
  job.stages.correct_ms += t.correct_ms;
  job.stages.mask_ms += t.mask_ms;
  job.stages.label_features_ms += t.label_ms + t.features_ms;
  job.stages.crops_ms += t.crops_ms;
  auto& tiles = r.tiles;
  job.stages.tiles += tiles.tiles;
  job.stages.tile_pixels += double(tiles.tile_pixels);
  job.stages.tiled_frame_pixels += tiles.tiles > 0 ? double(tiles.frame_pixels) : 0;
  job.stages.tile_read_ms += tiles.read_ms;
  job.stages.tile_segment_ms += tiles.segment_ms;
  job.stages.stitch_ms += tiles.stitch_ms;
  job.stages.stitch_wait_ms += tiles.stitch_wait_ms;
  job.stages.held_back_ms += tiles.held_back_ms;
  auto refused = r.ok ? commit_problem(job, r) : std::nullopt;
  if (r.ok && !refused && grouping(self)) {
    job.last_result = clock_type::now();
    return add_to_group(self, job, std::move(r));
  }
  if (r.ok && !refused) {
    try {
      commit_frame(job.plan, job.layout, r);
    } catch (const std::exception& e) {
      fail_commit(self, job, r.name, e);
      return false;
    }
    job.stages.commit_ms += ms_since(t0);
    frame_committed(self, job, r);
  } else {
    frame_result failed;
    failed.index = r.index;
    failed.name = r.name;
    failed.error = refused ? *refused : r.error;
    if (refused) // the worker, which logs failures, saw none
      spdlog::warn("frame_failed job={} frame={} error=\"{}\"", r.job_id, r.name, *refused);
    record_failure(job, failed);
    count_node(job, r);
    send_event(self, job, event_kind::frame_failed, r.index, 0, compute_ms(r), failed.error,
               r.node);
  }
  job.last_result = clock_type::now();
  return true;
}

// Frame i had `objects` objects, `objects` > the mean before it + 20: the
// flat is recomputed for frame i + 1 (SPEC §2.1); frame i is not redone.
// Results already in for later frames were made with the old flat and go.
void recalculate_flat(self_ptr self, export_job& job, std::uint32_t i, std::uint32_t objects,
                      double average, bool replay) {
  auto& plan = job.plan;
  auto j = i + 1;
  if (j >= plan.frames.size())
    return; // the last frame: no frame follows
  auto window = kernels::recalc_flat_indices(j, plan.frames.size());
  if (window.empty()) {
    // The reference fails the acquisition here (median of no frame); the
    // frames go on with the current flat instead.
    spdlog::warn("flat_recalc_skipped job={} frame={} objects={} average={:.3f} "
                 "reason=\"the reference's window for frame {} is empty\"",
                 plan.id, plan.frames[i], objects, average, j);
    return;
  }
  ++job.generation;
  ++job.recalculations;
  job.flat_from = j;
  job.stale += std::uint32_t(job.ahead.size());
  job.ahead.clear();
  spdlog::info("flat_recalc_triggered job={} frame={} index={} objects={} average={:.3f} "
               "next={} window={}-{} generation={}{}",
               plan.id, plan.frames[i], i, objects, average, j, window.front(), window.back(),
               job.generation, replay ? " replayed=true" : "");
  // The tiled frames open now were read with the old flat: dropped before
  // the reader (told below) reads any with the new one.
  if (job.tiled)
    self->send(self->state.stitcher, atom::stop::value, plan.id);
  if (!replay)
    self->send(job.reader, atom::reflat::value, plan.id, job.generation, j);
}

// Settles frames in order from the cursor while their result (or, for a
// frame committed by an earlier run, its record) is in, feeding the
// recalculation heuristic. A failed frame does not feed it. Returns false
// when the job ended (a commit failed).
bool advance(self_ptr self, export_job& job) {
  auto n = job.plan.frames.size();
  // Only frames committed by an earlier run are settled without a result:
  // replaying them (at the recalc request) leaves the cursor at the first
  // frame this run segments.
  while (job.cursor < n) {
    auto i = job.cursor;
    std::optional<std::uint32_t> objects;
    if (auto rec = job.recorded.find(i); rec != job.recorded.end()) {
      objects = rec->second;
    } else if (auto r = job.ahead.find(i); r != job.ahead.end()) {
      auto result = std::move(r->second);
      job.ahead.erase(r);
      auto count = std::uint32_t(result.objects.size());
      if (!settle(self, job, result))
        return false;
      if (job.failed.count(i) == 0) // a failed frame does not feed the heuristic
        objects = count;
    } else {
      break;
    }
    ++job.cursor;
    if (!objects)
      continue;
    kernels::flat_recalc_heuristic h{job.average_objects};
    auto before = h.average_objects;
    bool fire = h.after_frame(i, *objects);
    job.average_objects = h.average_objects;
    if (fire)
      recalculate_flat(self, job, i, *objects, before, /*replay=*/!job.reader);
  }
  return true;
}

/// The id of the operation this exporter recovers, or "".
std::string recovering_id(self_ptr self) {
  auto& r = self->state.recover;
  return r ? r->id : std::string{};
}

/// The operation to recover, if `plan` is its acquisition (used once).
std::optional<io::op_record> take_recovery(self_ptr self, const job_plan& plan) {
  auto& r = self->state.recover;
  if (!r || r->acquisition != plan.acquisition)
    return std::nullopt;
  auto op = std::move(r);
  r.reset();
  return op;
}

/// The outputs are held by an export that did not finish.
struct stuck_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

frame_indices begin_job(self_ptr self, const job_plan& plan) {
  export_job job;
  job.plan = plan;
  job.started = clock_type::now();
  job.last_result = job.started;
  job.layout = io::output_layout(plan);
  if (self->state.journal) // checked before --force removes anything
    if (auto refusal = io::stuck_refusal(plan, job.layout, recovering_id(self));
        !refusal.empty())
      throw stuck_error(refusal);
  if (plan.force) // start over: nothing of an earlier run may pass for this one's
    io::remove_outputs(job.layout);
  io::prepare_outputs(job.layout);
  for (std::uint32_t i = 0; i < plan.frames.size(); ++i) {
    auto file = job.layout.record_file(plan.frames[i]);
    if (!fs::exists(file))
      continue;
    try {
      auto rec = io::read_frame_record(file);
      if (rec.frame == plan.frames[i]) {
        job.committed.insert(i);
        job.recorded[i] = std::uint32_t(rec.objects.size());
        continue;
      }
    } catch (const std::exception& e) {
      spdlog::warn("record_invalid file={} error=\"{}\"", file.string(), e.what());
    }
    fs::remove(file); // redone below
  }
  if (auto* journal = self->state.journal ? &*self->state.journal : nullptr)
    job.op = io::start_operation(*journal, plan, take_recovery(self, plan));
  if (job.op) {
    job.op_id = job.op->id;
  } else if (auto r = self->state.recorded_ops.find(plan.id);
             r != self->state.recorded_ops.end()) {
    job.op_id = r->second;
  }
  // A fresh id is an input of the run, like the clock: replay takes it from
  // this record instead of the journal.
  if (!job.op_id.empty())
    trace::note_text(self, "operation", plan.id, job.op_id);
  job.resumed = std::uint32_t(job.committed.size());
  frame_indices done(job.committed.begin(), job.committed.end());
  if (job.resumed > 0)
    spdlog::info("job_resumed job={} committed={} of={}", plan.id, job.resumed,
                 plan.frames.size());
  auto id = plan.id;
  self->state.jobs[id] = std::move(job);
  return done;
}

} // namespace

exporter_actor::behavior_type
exporter(exporter_actor::stateful_pointer<exporter_state> self, queue_actor queue,
         status_hub_actor hub, exporter_config cfg) {
  self->state.queue = std::move(queue);
  self->state.hub = std::move(hub);
  if (!cfg.state_dir.empty())
    self->state.journal.emplace(cfg.state_dir);
  self->state.recover = std::move(cfg.recover);
  self->state.commit_frames = std::max<std::uint32_t>(1, cfg.commit_frames);
  self->state.commit_window = cfg.commit_window;
  self->state.recorded_ops = std::move(cfg.recorded_ops);
  self->state.stitcher
    = spawn_tile_stitcher(*self, caf::actor_cast<exporter_actor>(self));
  return trace::traced_all(self,
    [=](atom::begin, const job_plan& plan) -> caf::result<frame_indices, std::string> {
      frame_indices done;
      try {
        done = begin_job(self, plan);
      } catch (const stuck_error& e) {
        self->state.jobs.erase(plan.id);
        return make_error(ec::export_stuck, e.what());
      } catch (const std::exception& e) {
        self->state.jobs.erase(plan.id);
        return make_error(ec::output_failed, std::string("preparing outputs: ") + e.what());
      }
      auto& job = self->state.jobs[plan.id];
      auto& pending = self->state.follow_pending;
      if (auto f = pending.find(plan.id); f != pending.end()) {
        follow_job(job, f->second.first, f->second.second);
        pending.erase(f);
      }
      auto op_id = job.op_id; // complete() below ends the job
      if (job.committed.size() == plan.frames.size() && (!job.following || job.sealed))
        complete(self, plan.id); // everything was committed by an earlier run
      return {std::move(done), std::move(op_id)};
    },
    [=](frame_result& r) {
      auto it = self->state.jobs.find(r.job_id);
      if (it == self->state.jobs.end())
        return; // stopped or unknown job: drop
      auto& job = it->second;
      if (already_settled(job, r.index))
        return;
      if (job.following) {
        // A followed job's names arrive with its frames.
        if (r.index >= job.plan.frames.size())
          job.plan.frames.resize(r.index + 1u);
        if (job.plan.frames[r.index].empty())
          job.plan.frames[r.index] = r.name;
      }
      if (!job.in_order) {
        if (settle(self, job, r))
          maybe_complete(self, job);
        return;
      }
      if (r.generation != job.generation) {
        ++job.stale; // made with a superseded flat: the frame is redone
        return;
      }
      if (r.index < job.cursor)
        return;
      auto index = r.index;
      job.ahead.insert_or_assign(index, std::move(r));
      job.ahead_max = std::max(job.ahead_max, job.ahead.size());
      if (advance(self, job))
        maybe_complete(self, job);
    },
    [=](atom::recalc, std::uint64_t id) -> caf::result<std::uint32_t, std::uint32_t> {
      auto it = self->state.jobs.find(id);
      if (it == self->state.jobs.end())
        return make_error(ec::unknown_job, "flat recalculation: unknown job "
                                             + std::to_string(id));
      auto& job = it->second;
      job.in_order = true;
      // Replays the frames committed by an earlier run; with no reader known
      // yet, a recalculation there only sets the generation replied.
      advance(self, job);
      job.reader = caf::actor_cast<reader_actor>(self->current_sender());
      auto from = job.generation > 1 ? job.flat_from : std::uint32_t(job.plan.frames.size());
      return caf::result<std::uint32_t, std::uint32_t>(job.generation, from);
    },
    [=](atom::follow, std::uint64_t id, std::uint32_t frames, bool sealed) {
      auto it = self->state.jobs.find(id);
      if (it == self->state.jobs.end()) {
        self->state.follow_pending[id] = {frames, sealed};
        return;
      }
      follow_job(it->second, frames, sealed);
      if (sealed)
        maybe_complete(self, it->second);
    },
    [=](atom::flush, std::uint64_t id, std::uint64_t seq) {
      auto it = self->state.jobs.find(id);
      if (it == self->state.jobs.end() || it->second.group_seq != seq)
        return; // the group was committed already (full, last frames, stop)
      flush(self, it->second);
    },
    [=](atom::open, tile_frame& tf) {
      // The stitcher tells the reader, not the exporter, when it is done.
      auto reader = caf::actor_cast<reader_actor>(self->current_sender());
      // A frame of a job stopped meanwhile, or read with a flat superseded
      // meanwhile, is never committed: the stitcher would hold it (and its
      // memory) open for tiles that never come.
      auto it = self->state.jobs.find(tf.job_id);
      if (it == self->state.jobs.end() || tf.generation < it->second.generation) {
        if (reader)
          self->send(reader, atom::stitched::value, tf.job_id, tf.generation, tf.index);
        return;
      }
      it->second.tiled = true;
      self->send(self->state.stitcher, atom::open::value, std::move(tf), std::move(reader));
    },
    [=](tile_report& r) {
      self->send(self->state.stitcher, std::move(r));
    },
    [=](atom::stop, std::uint64_t id, const std::string& reason) {
      self->send(self->state.stitcher, atom::stop::value, id);
      self->state.follow_pending.erase(id);
      auto it = self->state.jobs.find(id);
      if (it == self->state.jobs.end())
        return;
      // The frames settled so far stay committed for a resume, as when
      // each is committed alone.
      if (!flush(self, it->second))
        return;
      auto state = reason.empty() ? job_state::interrupted : job_state::failed;
      auto summary = summary_of(it->second, state, reason);
      end_op(self, it->second, io::op_state::exception,
             reason.empty() ? "stopped" : "stopped: " + reason);
      self->state.jobs.erase(it);
      self->send(self->state.queue, atom::finished::value, std::move(summary));
    });
}

} // namespace seg
