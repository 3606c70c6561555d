#include "actors/reader.hpp"

#include <algorithm>
#include <fstream>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/python_format.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/jpeg_header.hpp"
#include "shm/image_segment.hpp"

namespace seg {

namespace {

using clock_type = std::chrono::steady_clock;
using self_ptr = reader_actor::stateful_pointer<reader_state>;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

std::vector<std::uint8_t> read_bytes(const std::string& path, double& ms) {
  auto t0 = clock_type::now();
  auto text = io::read_file(path);
  ms += ms_since(t0);
  return {text.begin(), text.end()};
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

// A segment work item for frame `index`, with its bytes read.
work_item frame_item(reader_job& job, std::uint32_t index) {
  work_item item;
  item.kind = std::uint8_t(work_kind::segment);
  item.job_id = job.plan.id;
  item.generation = job.generation;
  item.index = index;
  item.name = job.plan.frames[index];
  item.path = frame_path(job.plan, index);
  item.flat_segment = job.flat->name();
  item.params = job.plan.params;
  try {
    item.bytes = read_bytes(item.path, item.read_ms);
  } catch (const std::exception&) {
    // The worker reports the unreadable file as this frame's failure.
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
  self->send(self->state.queue, atom::failed::value, job.plan.id, why);
}

// Tells the queue when a job's last frame is handed out, so it can prepare
// the next job while the last frames are in flight.
void notify_if_drained(self_ptr self, const reader_job& job) {
  if (job.frames.empty() && job.read_ahead.empty())
    self->send(self->state.queue, atom::drained::value, job.plan.id);
}

// The next piece of work of any job, earliest job first; nullopt if none.
std::optional<work_item> next_work(self_ptr self) {
  for (auto& job : self->state.jobs) {
    switch (job.current) {
      case reader_job::phase::flat_decode:
        if (!job.decodes.empty()) {
          auto slot = job.decodes.front();
          job.decodes.pop_front();
          ++job.outstanding;
          work_item item;
          item.kind = std::uint8_t(work_kind::flat_decode);
          item.job_id = job.plan.id;
          item.generation = job.generation;
          item.index = slot;
          auto frame = job.plan.flat_frames[slot];
          item.name = job.plan.frames[frame];
          item.path = frame_path(job.plan, frame);
          item.stack_segment = job.stack->name();
          item.stack_count = std::uint32_t(job.stack->count());
          item.params = job.plan.params;
          try {
            item.bytes = read_bytes(item.path, item.read_ms);
          } catch (const std::exception&) {
            item.bytes.clear();
          }
          return item;
        }
        break;
      case reader_job::phase::flat_bands:
        if (!job.bands.empty()) {
          auto [begin, end] = job.bands.front();
          job.bands.pop_front();
          ++job.outstanding;
          work_item item;
          item.kind = std::uint8_t(work_kind::flat_band);
          item.job_id = job.plan.id;
          item.generation = job.generation;
          item.stack_segment = job.stack->name();
          item.flat_segment = job.flat->name();
          item.stack_count = std::uint32_t(job.stack->count());
          item.row_begin = begin;
          item.row_end = end;
          return item;
        }
        break;
      case reader_job::phase::frames:
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

// Hands work to workers that are waiting for it.
void serve_waiting(self_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty()) {
    auto item = next_work(self);
    if (!item)
      break;
    auto rp = std::move(st.waiting.front());
    st.waiting.pop_front();
    rp.deliver(std::move(*item));
  }
  schedule_prefetch(self);
}

void start_flat(self_ptr self, reader_job& job) {
  auto& plan = job.plan;
  auto first = frame_path(plan, plan.flat_frames.front());
  std::vector<std::uint8_t> bytes;
  double read_ms = 0;
  try {
    bytes = read_bytes(first, read_ms);
  } catch (const std::exception& e) {
    return fail_job(self, job, e.what());
  }
  auto size = kernels::jpeg_size(bytes.data(), bytes.size());
  if (!size)
    return fail_job(self, job, first + ": not a JPEG image (needed for the flat field)");
  if (std::int64_t(size->area()) > plan.params.max_frame_pixels)
    return fail_job(self, job,
                    first + ": " + std::to_string(size->width) + "x"
                      + std::to_string(size->height)
                      + " exceeds pipeline.max_frame_pixels");
  try {
    auto count = int(plan.flat_frames.size());
    job.stack = shm::image_segment::create(
      shm::segment_name(plan.id, job.generation, "stack"), size->height, size->width,
      CV_8UC3, count);
    job.flat = shm::image_segment::create(
      shm::segment_name(plan.id, job.generation, "flat"), size->height, size->width,
      CV_8UC3, 1);
  } catch (const std::exception& e) {
    return fail_job(self, job, e.what());
  }
  job.current = reader_job::phase::flat_decode;
  job.flat_started = clock_type::now();
  for (std::uint32_t i = 0; i < plan.flat_frames.size(); ++i)
    job.decodes.push_back(i);
  spdlog::info("flat_started job={} frames={} size={}x{}", plan.id,
               plan.flat_frames.size(), size->width, size->height);
  serve_waiting(self);
}

void flat_step_done(self_ptr self, const frame_result& r) {
  auto* job = find_job(self, r.job_id);
  if (job == nullptr || job->generation != r.generation
      || (job->current != reader_job::phase::flat_decode
          && job->current != reader_job::phase::flat_bands))
    return; // stale: the job was stopped or failed
  --job->outstanding;
  if (!r.ok)
    return fail_job(self, *job, "flat field: " + r.error);
  if (job->current == reader_job::phase::flat_decode) {
    if (!job->decodes.empty() || job->outstanding > 0)
      return;
    // Every flat frame is decoded: cut the median into bands, a few per
    // worker so a slow worker does not hold the others up.
    int rows = job->flat->rows();
    int bands = int(std::max<std::uint32_t>(1, self->state.cfg.workers)) * 2;
    int step = std::max(1, (rows + bands - 1) / bands);
    for (int b = 0; b < rows; b += step)
      job->bands.emplace_back(b, std::min(rows, b + step));
    job->current = reader_job::phase::flat_bands;
    serve_waiting(self);
    return;
  }
  if (!job->bands.empty() || job->outstanding > 0)
    return;
  job->stack.reset(); // the frames the flat came from are no longer needed
  job->current = reader_job::phase::frames;
  auto ms = ms_since(job->flat_started);
  spdlog::info("flat_ready job={} ms={:.1f}", job->plan.id, ms);
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

} // namespace

job_plan resolve_plan(const job_spec& spec, const config::sources& base) {
  auto src = base;
  for (auto& o : spec.overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos)
      throw std::runtime_error("job setting '" + o + "' is not key=value");
    src.overrides.emplace_back(o.substr(0, eq), o.substr(eq + 1));
  }
  auto st = config::load(src);
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
    } else {
      plan.warnings.push_back(meta_file.string() + ": process_pixel " + px.reason
                              + "; sizes are in pixels");
    }
  }
  if (p.remove_previous_mask)
    plan.warnings.push_back("segmentation.remove_previous_mask is not supported by the "
                            "parallel pipeline yet and is ignored");
  return plan;
}

reader_actor::behavior_type reader(reader_actor::stateful_pointer<reader_state> self,
                                   reader_config cfg, queue_actor queue,
                                   status_hub_actor hub) {
  self->state.cfg = std::move(cfg);
  self->state.queue = std::move(queue);
  self->state.hub = std::move(hub);
  return {
    [=](atom::open, const job_spec& spec) -> caf::result<job_plan> {
      try {
        auto plan = resolve_plan(spec, self->state.cfg.base);
        reader_job job;
        job.plan = plan;
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
      start_flat(self, *job);
    },
    [=](atom::work) -> caf::result<work_item> {
      if (auto item = next_work(self)) {
        schedule_prefetch(self);
        return std::move(*item);
      }
      auto rp = self->make_response_promise<work_item>();
      self->state.waiting.push_back(rp);
      return rp;
    },
    [=](const frame_result& r) { flat_step_done(self, r); },
    [=](atom::stop, std::uint64_t id) {
      auto& jobs = self->state.jobs;
      jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                                [id](const reader_job& j) { return j.plan.id == id; }),
                 jobs.end());
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
    },
  };
}

} // namespace seg
