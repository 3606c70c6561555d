#include "actors/segment_worker.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/test_fault.hpp"
#include "actors/trace.hpp"
#include "actors/feature_vector.hpp"
#include "actors/io/frame_file.hpp"
#include "kernels/correct.hpp"
#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/jpeg_header.hpp"
#include "shm/image_segment.hpp"

namespace seg {

namespace {

using clock_type = std::chrono::steady_clock;
using self_ptr = segment_worker_actor::stateful_pointer<segment_worker_state>;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

std::string size_text(int w, int h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

// Decodes a work item's bytes (reading the file when the reader could not)
// into `out`; throws with a reason naming the file.
void decode(work_item& item, cv::Mat& out) {
  if (item.bytes.empty()) {
    // The reader could not read it: read it here to learn why (io_error
    // names the file), or to go on if it was a passing problem.
    std::filesystem::path path(item.path);
    item.bytes = io::read_frame_file(path.parent_path(), item.name,
                                     io::max_frame_file_bytes(item.params.max_frame_pixels));
  }
  auto size = kernels::jpeg_size(item.bytes.data(), item.bytes.size());
  if (!size)
    throw std::runtime_error(item.path + ": not a JPEG image");
  if (kernels::pixels(*size) > item.params.max_frame_pixels)
    throw std::runtime_error(item.path + ": " + size_text(size->width, size->height)
                             + " exceeds pipeline.max_frame_pixels ("
                             + std::to_string(item.params.max_frame_pixels) + ")");
  try {
    kernels::decode_jpeg(item.bytes.data(), item.bytes.size(), item.params.max_frame_pixels,
                         out);
  } catch (const kernels::decode_error& e) {
    throw std::runtime_error(item.path + ": " + e.what());
  }
}

void reset_frame(self_ptr self) {
  auto& st = self->state;
  st.item.reset();
  st.next = frame_step::decode;
  // frame keeps its buffer for the next frame; corrected is frame itself.
  st.corrected.release();
  st.mask = {};
  st.labelled = {};
  st.kept.clear();
  st.features.clear();
  st.result = {};
}

void pull(self_ptr self);

// Reports the current item's result and asks for more.
void finish(self_ptr self) {
  auto& st = self->state;
  auto kind = work_kind(st.item->kind);
  if (kind == work_kind::segment)
    self->send(st.exporter, std::move(st.result));
  else
    self->send(st.reader, std::move(st.result));
  reset_frame(self);
  pull(self);
}

void fail(self_ptr self, const std::string& why) {
  auto& st = self->state;
  st.result.ok = false;
  st.result.error = why;
  st.result.objects.clear();
  // A flat frame that fails is replaced by the reader, which logs it; the
  // frame fails (and is reported) when it is segmented.
  if (work_kind(st.item->kind) == work_kind::segment)
    spdlog::warn("frame_failed job={} frame={} error=\"{}\"", st.item->job_id,
                 st.item->name, why);
  else
    spdlog::debug("flat_frame_failed job={} frame={} error=\"{}\"", st.item->job_id,
                  st.item->name, why);
  finish(self);
}

void start(self_ptr self, work_item item) {
  auto& st = self->state;
  auto kind = work_kind(item.kind);
  if (kind == work_kind::idle) {
    self->delayed_send(self, std::chrono::milliseconds(item.retry_ms), atom::pull::value);
    return;
  }
  if (kind == work_kind::shutdown) {
    self->quit();
    return;
  }
  st.result = {};
  st.result.job_id = item.job_id;
  st.result.generation = item.generation;
  st.result.kind = item.kind;
  st.result.index = item.index;
  st.result.name = item.name;
  st.result.timings.read_ms = item.read_ms;
  st.result.timings.wait_ms = ms_since(st.asked);
  st.item = std::move(item);
  st.next = frame_step::decode;
  self->send(self, atom::step::value);
}

void pull(self_ptr self) {
  self->state.asked = clock_type::now();
  self->request(self->state.reader, std::chrono::seconds(30), atom::work::value)
    .then([=](work_item& item) { start(self, std::move(item)); },
          [=](caf::error& err) {
            if (err == caf::sec::request_timeout) {
              pull(self); // nothing to do for a while: ask again
              return;
            }
            spdlog::debug("worker_stops reason=\"{}\"", self->system().render(err));
            self->quit(err);
          });
}

const cv::Mat& flat_for(self_ptr self, const std::string& name) {
  auto& st = self->state;
  if (st.flat_name != name) {
    st.flat.reset();
    st.flat = shm::image_segment::open(name, false);
    st.flat_name = name;
  }
  static thread_local cv::Mat view;
  view = st.flat->image(0);
  return view;
}

void flat_decode_step(self_ptr self) {
  auto& st = self->state;
  auto t0 = clock_type::now();
  auto stack = shm::image_segment::open(st.item->stack_segment, true);
  // Decode straight into the frame's stack slot: no 37 MB buffer, no copy.
  // A frame of another size (or a rotated one) lands in a buffer of its own.
  cv::Mat slot = stack->image(int(st.item->index));
  cv::Mat frame = slot;
  decode(*st.item, frame);
  if (frame.rows != stack->rows() || frame.cols != stack->cols())
    throw std::runtime_error(st.item->path + ": size " + size_text(frame.cols, frame.rows)
                             + " differs from the acquisition's "
                             + size_text(stack->cols(), stack->rows()));
  if (frame.data != slot.data)
    frame.copyTo(slot);
  st.result.timings.decode_ms = ms_since(t0);
}

void flat_band_step(self_ptr self) {
  auto& st = self->state;
  auto stack = shm::image_segment::open(st.item->stack_segment, false);
  auto flat = shm::image_segment::open(st.item->flat_segment, true);
  std::vector<cv::Mat> frames;
  // The reader moved the frames it chose to the first stack_count slots.
  int used = st.item->stack_count > 0 ? std::min(int(st.item->stack_count), stack->count())
                                      : stack->count();
  for (int i = 0; i < used; ++i)
    frames.push_back(stack->image(i));
  auto out = flat->image(0);
  kernels::median_flat_rows(frames, st.item->row_begin, st.item->row_end, out);
}

// One step of segmenting a frame; returns true when the frame is complete.
bool segment_step(self_ptr self) {
  auto& st = self->state;
  auto& item = *st.item;
  auto& t = st.result.timings;
  auto t0 = clock_type::now();
  switch (st.next) {
    case frame_step::decode: {
      inject_test_fault(item.name);
      decode(item, st.frame);
      auto& flat = flat_for(self, item.flat_segment);
      if (st.frame.size() != flat.size())
        throw std::runtime_error(item.path + ": size "
                                 + size_text(st.frame.cols, st.frame.rows)
                                 + " differs from the flat field's "
                                 + size_text(flat.cols, flat.rows));
      t.decode_ms = ms_since(t0);
      st.next = frame_step::correct;
      return false;
    }
    case frame_step::correct: {
      // In place: the raw frame is not needed again, and one 37 MB buffer
      // per worker instead of two keeps 3 worker processes under 600 MB.
      kernels::correct_frame(st.frame, flat_for(self, item.flat_segment), st.frame);
      st.corrected = st.frame;
      t.correct_ms = ms_since(t0);
      st.next = frame_step::mask;
      return false;
    }
    case frame_step::mask: {
      kernels::mask_params mp;
      st.mask = kernels::make_mask(st.corrected, mp, nullptr);
      st.result.threshold = st.mask.threshold;
      t.mask_ms = ms_since(t0);
      st.next = frame_step::label;
      return false;
    }
    case frame_step::label: {
      st.labelled = kernels::label_regions(st.mask.mask);
      // Only pixels decide the filter: pixel_size_um converts µm, 0 = px.
      kernels::size_filter_params fp;
      fp.min_esd = item.params.min_esd_px;
      fp.pixel_size_um = 0;
      st.kept = kernels::filter_regions(st.labelled.regions, fp);
      t.label_ms = ms_since(t0);
      st.next = frame_step::features;
      return false;
    }
    case frame_step::features: {
      st.features = kernels::measure_regions(st.labelled, st.kept, st.corrected);
      st.labelled = {};
      t.features_ms = ms_since(t0);
      st.next = frame_step::crops;
      return false;
    }
    case frame_step::crops: {
      auto frame_size = st.corrected.size();
      for (std::size_t i = 0; i < st.kept.size(); ++i) {
        object_record rec;
        rec.index = std::uint32_t(i);
        rec.features = to_vector(st.features[i]);
        auto rect = kernels::crop_rect(st.kept[i].bbox, frame_size, item.params.crop_margin);
        rec.crop_jpeg = kernels::encode_crop_jpeg(st.corrected, rect,
                                                  item.params.jpeg_quality);
        st.result.objects.push_back(std::move(rec));
      }
      t.crops_ms = ms_since(t0);
      return true;
    }
  }
  return true;
}

void step(self_ptr self) {
  auto& st = self->state;
  if (!st.item)
    return;
  if (st.stopped_jobs.count(st.item->job_id) > 0) {
    spdlog::debug("frame_dropped job={} frame={}", st.item->job_id, st.item->name);
    reset_frame(self);
    pull(self);
    return;
  }
  bool complete = false;
  try {
    switch (work_kind(st.item->kind)) {
      case work_kind::flat_decode:
        flat_decode_step(self);
        complete = true;
        break;
      case work_kind::flat_band:
        flat_band_step(self);
        complete = true;
        break;
      case work_kind::segment:
        complete = segment_step(self);
        break;
      default:
        complete = true;
        break;
    }
  } catch (const std::exception& e) {
    // Kernel and decoder exceptions fail this frame only.
    std::string what = e.what();
    if (what.find(st.item->path) == std::string::npos)
      what = st.item->path + ": " + what;
    fail(self, what);
    return;
  }
  if (complete)
    finish(self);
  else
    self->send(self, atom::step::value);
}

} // namespace

segment_worker_actor::behavior_type
segment_worker(segment_worker_actor::stateful_pointer<segment_worker_state> self,
               reader_actor reader, exporter_actor exporter) {
  self->state.reader = std::move(reader);
  self->state.exporter = std::move(exporter);
  pull(self);
  return trace::traced_all(self,
    [=](atom::pull) { pull(self); },
    [=](atom::step) { step(self); },
    [=](atom::stop, std::uint64_t job) { self->state.stopped_jobs.insert(job); });
}

} // namespace seg
