#include "actors/segment_worker.hpp"

#include <algorithm>
#include <optional>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/test_fault.hpp"
#include "actors/trace.hpp"
#include "actors/feature_vector.hpp"
#include "actors/io/frame_file.hpp"
#include "actors/io/node_facts.hpp"
#include "actors/io/node_paths.hpp"
#include "actors/tile_codec.hpp"
#include "kernels/correct.hpp"
#include "kernels/decode.hpp"
#include "kernels/frame_bands.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/mask.hpp"
#include "kernels/tiles.hpp"
#include "shm/image_segment.hpp"

namespace seg {

namespace {

using clock_type = std::chrono::steady_clock;
using self_ptr = segment_worker_actor::stateful_pointer<segment_worker_state>;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

// Makes sure the item's bytes are there (reading the file when the reader
// could not) and that their header passes the size checks made before any
// pixel is decoded; throws with a reason naming the file.
void check_bytes(work_item& item) {
  if (item.bytes.empty()) {
    // The reader could not read it: read it here to learn why (io_error
    // names the file), or to go on if it was a passing problem.
    std::filesystem::path path(item.path);
    item.bytes = io::read_frame_file(path.parent_path(), item.name,
                                     io::max_frame_file_bytes(item.params.max_frame_pixels));
  }
  auto size = kernels::frame_size(item.bytes.data(), item.bytes.size());
  if (!size) {
    std::string why;
    kernels::probe_frame(item.bytes.data(), item.bytes.size(), &why);
    throw std::runtime_error(item.path + ": "
                             + (why.empty() ? "not a JPEG, PNG or TIFF image" : why));
  }
  if (auto problem = io::frame_size_problem(item.path, *size, item.params.max_frame_pixels);
      !problem.empty())
    throw std::runtime_error(problem);
}

// Decodes a work item's bytes into `out`; throws with a reason naming the
// file.
void decode(work_item& item, cv::Mat& out) {
  check_bytes(item);
  try {
    kernels::decode_frame(item.bytes.data(), item.bytes.size(), item.params.max_frame_pixels,
                          out);
  } catch (const kernels::decode_error& e) {
    throw std::runtime_error(item.path + ": " + e.what());
  }
}

// Paths mode: the first frame of a job under this node's data roots is read
// here too and compared with the bytes serve sent; the reader learns the
// answer. A frame sent without bytes is read here (decode does it).
void check_paths(self_ptr self, const work_item& item) {
  auto& st = self->state;
  if (!st.paths)
    return;
  if (item.bytes.empty()) {
    st.paths->count_read();
    return;
  }
  if (!st.paths->covers(item.path) || !st.paths->claim(item.job_id))
    return;
  auto problem = io::compare_with_file(item.path, item.bytes,
                                       io::max_frame_file_bytes(item.params.max_frame_pixels));
  if (problem.empty())
    spdlog::info("worker_paths job={} mode=paths verified=\"{}\"", item.job_id, item.path);
  else
    spdlog::warn("worker_paths job={} mode=bytes reason=\"{}\"", item.job_id, problem);
  self->send(st.reader, atom::paths::value, item.job_id, item.path, problem);
}

// Correct while decoding: the item's frame opened for a banded correction,
// or nothing when it is to be decoded whole (a rotated frame, or one not the
// flat's size: decode() then fails it exactly as without bands).
std::optional<kernels::banded_correction> open_bands(work_item& item, cv::Size flat_size) {
  check_bytes(item);
  try {
    kernels::frame_band_reader reader(item.bytes.data(), item.bytes.size(),
                                      item.params.max_frame_pixels);
    if (reader.orientation() != 1 || reader.coded_size() != flat_size)
      return std::nullopt;
    return kernels::banded_correction(std::move(reader), item.band_rows);
  } catch (const kernels::decode_error& e) {
    throw std::runtime_error(item.path + ": " + e.what());
  }
}

// Rows decoded and corrected per message (whole bands, at least one): 2 % of
// a 12 MP frame, well under a millisecond, so a stop waits no longer.
constexpr int band_step_rows = 64;

void reset_frame(self_ptr self) {
  auto& st = self->state;
  st.item.reset();
  st.next = frame_step::decode;
  // frame keeps its buffer for the next frame; corrected is frame itself.
  st.corrected.release();
  st.source.release();
  st.stack.reset();
  st.bands.reset();
  st.streamed.reset();
  st.streamed_bytes.clear();
  st.streamed_into.reset();
  st.mask = {};
  st.labelled = {};
  st.kept.clear();
  st.features.clear();
  st.result = {};
  // A tiled frame's memory goes back only once no process maps it: a worker
  // waiting for work must not keep the last one it cut.
  st.tile_pixels.reset();
}

void pull(self_ptr self);

// Reports the current item's result and asks for more.
void finish(self_ptr self) {
  auto& st = self->state;
  auto kind = work_kind(st.item->kind);
  if (kind == work_kind::tile) {
    self->send(st.exporter, std::move(st.tile_result));
    st.tile_result = {};
  } else if (kind == work_kind::segment) {
    if (st.frames_counter)
      ++*st.frames_counter;
    self->send(st.exporter, std::move(st.result));
  } else
    self->send(st.reader, std::move(st.result));
  reset_frame(self);
  pull(self);
}

void fail(self_ptr self, const std::string& why) {
  auto& st = self->state;
  st.result.ok = false;
  st.result.error = why;
  st.result.objects.clear();
  st.tile_result.ok = false;
  st.tile_result.error = why;
  st.tile_result.objects.clear();
  st.tile_result.pieces.clear();
  // A flat frame that fails is replaced by the reader, which logs it; the
  // frame fails (and is reported) when it is segmented.
  auto kind = work_kind(st.item->kind);
  if (kind == work_kind::segment || kind == work_kind::tile_read || kind == work_kind::tile)
    spdlog::warn("frame_failed job={} frame={} error=\"{}\"", st.item->job_id,
                 st.item->name, why);
  else
    spdlog::debug("flat_frame_failed job={} frame={} error=\"{}\"", st.item->job_id,
                  st.item->name, why);
  finish(self);
}

// The first step of a work item: with remove_previous_mask, a frame's
// previous mask is found before the frame itself is decoded, so both use the
// same frame buffers.
frame_step first_step(segment_worker_state& st) {
  st.previous_tried = 0;
  st.previous_timings = {};
  bool previous = work_kind(st.item->kind) == work_kind::segment
                  && st.item->params.remove_previous_mask;
  return previous ? frame_step::previous : frame_step::decode;
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
  st.result.node = st.node;
  st.result.timings.read_ms = item.read_ms;
  st.result.timings.wait_ms = ms_since(st.asked);
  if (kind == work_kind::tile) {
    st.tile_result = {};
    st.tile_result.job_id = item.job_id;
    st.tile_result.generation = item.generation;
    st.tile_result.index = item.index;
    st.tile_result.tile = item.tile;
    st.tile_result.node = st.node;
    st.tile_result.timings.wait_ms = st.result.timings.wait_ms;
  }
  st.item = std::move(item);
  st.next = first_step(st);
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
    if (st.flat_provider)
      st.flat_provider(name);
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
    throw std::runtime_error(st.item->path + ": size " + io::size_text(frame.cols, frame.rows)
                             + " differs from the acquisition's "
                             + io::size_text(stack->cols(), stack->rows()));
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

// previous_mask now holds the step-0 mask of frame `index` of the item's job.
void remember_previous(segment_worker_state& st, std::int64_t index) {
  st.previous_job = st.item->job_id;
  st.previous_flat = st.item->flat_segment;
  st.previous_index = index;
}

// remove_previous_mask, one message per earlier frame tried: leaves in
// previous_mask the step-0 mask of the nearest usable frame of
// item.previous (decoded, corrected with the same flat, thresholded as
// make_mask's step 0), or nothing when none is usable, then goes on to
// decode. A bad predecessor is skipped as the reference skips it (its
// previous mask stays the last good frame's), up to the reader's bound.
void previous_step(self_ptr self) {
  auto& st = self->state;
  auto& item = *st.item;
  if (st.previous_tried >= item.previous.size()) {
    st.previous_mask.release(); // make_mask leaves the frame unchanged
    st.previous_index = -1;
    st.next = frame_step::decode;
    return;
  }
  auto index = std::int64_t(item.index) - 1 - std::int64_t(st.previous_tried);
  const auto& name = item.previous[st.previous_tried++];
  if (st.previous_index == index && st.previous_job == item.job_id
      && st.previous_flat == item.flat_segment) {
    st.next = frame_step::decode; // this worker's last frame: kept
    return;
  }
  auto& t = st.previous_timings;
  try {
    auto t0 = clock_type::now();
    work_item prev;
    prev.name = name;
    prev.path = (std::filesystem::path(item.path).parent_path() / name).string();
    prev.params = item.params;
    decode(prev, st.frame);
    auto& flat = flat_for(self, item.flat_segment);
    if (st.frame.size() != flat.size())
      throw std::runtime_error(prev.path + ": size " + io::size_text(st.frame.cols, st.frame.rows)
                               + " differs from the flat field's "
                               + io::size_text(flat.cols, flat.rows));
    t.decode_ms += ms_since(t0);
    auto t1 = clock_type::now();
    // In place, as the frame's own; gray and histogram in the same pass.
    kernels::correct_frame_gray(st.frame, flat, st.frame, st.gray, st.gray_hist);
    t.correct_ms += ms_since(t1);
    auto t2 = clock_type::now();
    st.previous_mask = kernels::threshold_mask(st.gray, st.gray_hist);
    t.mask_ms += ms_since(t2);
    remember_previous(st, index);
    st.next = frame_step::decode;
  } catch (const std::exception& e) {
    // Its own segmentation reports why; the next earlier one is tried in
    // the next message.
    spdlog::debug("previous_frame_unusable job={} frame={} previous={} error=\"{}\"",
                  item.job_id, item.name, name, e.what());
  }
}

// The frame's mask; with remove_previous_mask, less previous_mask, which
// then holds this frame's own step-0 mask (the next frame's, if this worker
// gets it).
kernels::mask_result frame_mask(self_ptr self) {
  auto& st = self->state;
  kernels::mask_params mp;
  if (!st.item->params.remove_previous_mask)
    return kernels::make_mask(st.gray, st.gray_hist, mp, nullptr);
  mp.remove_previous_mask = true;
  auto r = kernels::make_mask(st.gray, st.gray_hist, mp, &st.previous_mask);
  remember_previous(st, st.item->index);
  return r;
}

// The earlier frames' work is counted in the stages it belongs to.
void add_previous_timings(segment_worker_state& st) {
  auto& t = st.result.timings;
  t.decode_ms += st.previous_timings.decode_ms;
  t.correct_ms += st.previous_timings.correct_ms;
  t.mask_ms += st.previous_timings.mask_ms;
}

// Decode once: the item's frame is decoded already in a slot of the flat's
// stack; maps it as the correction's source. False (decode the bytes) when
// the segment cannot be mapped here (gone with a superseded flat, another
// host) or its frames are not the flat's size.
bool from_stack(segment_worker_state& st, cv::Size size) {
  auto& item = *st.item;
  if (item.stack_slot < 0 || item.stack_segment.empty())
    return false;
  try {
    auto stack = shm::image_segment::open(item.stack_segment, false);
    if (item.stack_slot >= stack->count() || stack->rows() != size.height
        || stack->cols() != size.width || stack->type() != CV_8UC3)
      return false;
    st.source = stack->image(item.stack_slot);
    st.stack = std::move(stack);
    return true;
  } catch (const std::exception& e) {
    spdlog::debug("stack_slot_unavailable job={} frame={} error=\"{}\"", item.job_id,
                  item.name, e.what());
    return false;
  }
}

// The tiled frame's shared memory, mapped (writable to read the frame into
// it) for the current item only.
void map_tiled_frame(segment_worker_state& st, bool writable) {
  auto& item = *st.item;
  st.tile_pixels = shm::image_segment::open(item.pixels_segment, writable);
  cv::Size size{item.grid.frame_width, item.grid.frame_height};
  if (st.tile_pixels->cols() != size.width || st.tile_pixels->rows() != size.height
      || st.tile_pixels->type() != CV_8UC3)
    throw std::runtime_error("shared memory " + item.pixels_segment
                             + " does not hold a frame of " + io::size_text(size.width, size.height));
}

// A tiled frame is read into shared memory as frames are corrected while
// decoding (a few bands a message, so a stop is seen between them), never
// into this process's own memory; its histogram gives the frame's
// threshold, which every tile uses. Returns true when it is read.
bool tile_read_step(self_ptr self) {
  auto& st = self->state;
  auto& item = *st.item;
  auto& t = st.result.timings;
  auto t0 = clock_type::now();
  if (!st.bands) {
    auto& flat = flat_for(self, item.flat_segment);
    map_tiled_frame(st, true);
    check_bytes(item);
    try {
      kernels::frame_band_reader reader(item.bytes.data(), item.bytes.size(),
                                        item.params.max_frame_pixels);
      if (auto why = kernels::tiled_frame_problem(reader.info()); !why.empty())
        throw std::runtime_error(item.path + ": " + why);
      if (reader.coded_size() != flat.size())
        throw std::runtime_error(item.path + ": size "
                                 + io::size_text(reader.coded_size().width,
                                                 reader.coded_size().height)
                                 + " differs from the flat field's "
                                 + io::size_text(flat.cols, flat.rows));
      st.bands.emplace(std::move(reader), item.band_rows > 0 ? item.band_rows : 16);
    } catch (const kernels::decode_error& e) {
      throw std::runtime_error(item.path + ": " + e.what());
    }
    t.decode_ms = ms_since(t0);
    return false;
  }
  cv::Mat pixels = st.tile_pixels->image();
  bool done = false;
  try {
    // No gray image is kept: each tile makes its own from the pixels.
    done = st.bands->advance(flat_for(self, item.flat_segment), pixels,
                             std::max(band_step_rows, item.band_rows));
  } catch (const kernels::decode_error& e) {
    throw std::runtime_error(item.path + ": " + e.what());
  }
  if (pixels.data != st.tile_pixels->image().data)
    throw std::logic_error("a tiled frame's bands went to private memory");
  if (!done)
    return false;
  t.decode_ms += st.bands->timings().decode_ms;
  t.correct_ms = st.bands->timings().correct_ms;
  st.result.threshold = kernels::triangle_threshold(st.bands->histogram());
  st.bands.reset();
  return true;
}

// A tiled acquisition's flat: its frames decoded side by side, a band of
// rows at a time, and their median written into the flat segment; a few
// bands a message, so a stop is seen between them. Returns true when done.
bool flat_stream_step(self_ptr self) {
  auto& st = self->state;
  auto& item = *st.item;
  auto t0 = clock_type::now();
  if (!st.streamed) {
    st.streamed_into = shm::image_segment::open(item.flat_segment, true);
    auto dir = std::filesystem::path(item.path).parent_path();
    st.streamed_bytes.clear();
    std::vector<kernels::frame_band_reader> readers;
    for (std::size_t k = 0; k < item.flat_names.size(); ++k) {
      auto& name = item.flat_names[k];
      // A frame that fails is named by its position: the reader replaces it.
      st.result.index = std::uint32_t(k);
      st.streamed_bytes.push_back(io::read_frame_file(
        dir, name, io::max_frame_file_bytes(item.params.max_frame_pixels)));
      auto& b = st.streamed_bytes.back();
      try {
        readers.emplace_back(b.data(), b.size(), item.params.max_frame_pixels,
                             (dir / name).string());
      } catch (const kernels::decode_error& e) {
        throw std::runtime_error(e.what()); // names the file already
      }
    }
    st.result.index = item.index;
    st.streamed.emplace(std::move(readers), item.band_rows > 0 ? item.band_rows : 16);
    if (st.streamed->size() != cv::Size(st.streamed_into->cols(), st.streamed_into->rows()))
      throw std::runtime_error("the flat's frames are not the flat segment's size");
  }
  cv::Mat out = st.streamed_into->image();
  bool done = false;
  try {
    done = st.streamed->advance(out, band_step_rows);
  } catch (const kernels::streamed_frame_error& e) {
    st.result.index = std::uint32_t(e.frame()); // the reader replaces that frame
    throw std::runtime_error(e.what());
  }
  st.result.timings.decode_ms += ms_since(t0);
  if (done) {
    st.streamed.reset();
    st.streamed_bytes.clear();
    st.streamed_into.reset();
  }
  return done;
}

// One tile, in one message: its mask over the extent with the frame's
// threshold, labelled over its core; whole objects measured, border pieces
// for the stitcher (kernels::segment_tile).
void tile_step(self_ptr self) {
  auto& st = self->state;
  auto& item = *st.item;
  auto t0 = clock_type::now();
  map_tiled_frame(st, false);
  auto layout = to_layout(item.grid);
  if (item.tile < 0 || item.tile >= layout.count())
    throw std::runtime_error(item.path + ": tile " + std::to_string(item.tile)
                             + " is outside its frame's " + std::to_string(layout.count()));
  auto extent = layout.extent(item.tile);
  cv::Mat pixels = st.tile_pixels->image()(extent);
  kernels::gray_histogram unused;
  kernels::gray_and_histogram(pixels, st.gray, unused);
  auto result = kernels::segment_tile(layout, item.tile, pixels, st.gray, item.threshold,
                                      to_kernel_params(item.params));
  fill_report(std::move(result), st.tile_result);
  st.tile_result.pixels = std::int64_t(extent.area());
  st.tile_result.timings.mask_ms = ms_since(t0);
}

// One step of segmenting a frame; returns true when the frame is complete.
bool segment_step(self_ptr self) {
  auto& st = self->state;
  auto& item = *st.item;
  auto& t = st.result.timings;
  auto t0 = clock_type::now();
  switch (st.next) {
    case frame_step::decode: {
      if (inject_test_fault(item.name))
        return true; // a fake worker's frame: done, no objects
      auto& flat = flat_for(self, item.flat_segment);
      if (!from_stack(st, flat.size())) {
        check_paths(self, item);
        if (item.band_rows > 0)
          st.bands = open_bands(item, flat.size());
        if (st.bands) {
          t.decode_ms = ms_since(t0); // the headers; the bands add theirs
          st.next = frame_step::bands;
          return false;
        }
        decode(item, st.frame);
      }
      const auto& raw = st.source.empty() ? st.frame : st.source;
      if (raw.size() != flat.size())
        throw std::runtime_error(item.path + ": size " + io::size_text(raw.cols, raw.rows)
                                 + " differs from the flat field's "
                                 + io::size_text(flat.cols, flat.rows));
      t.decode_ms = ms_since(t0);
      st.next = frame_step::correct;
      return false;
    }
    case frame_step::bands: {
      // Correct while decoding: each band is corrected, made gray and
      // counted while it is in cache, into the frame buffer (one 37 MB
      // buffer, as in place); a few bands per message, so a stop is seen
      // between them. The threshold waits for the whole histogram.
      auto& bands = *st.bands;
      bool done = false;
      try {
        done = bands.advance(flat_for(self, item.flat_segment), st.frame, st.gray,
                             std::max(band_step_rows, item.band_rows));
      } catch (const kernels::decode_error& e) {
        throw std::runtime_error(item.path + ": " + e.what());
      }
      if (!done)
        return false;
      t.decode_ms += bands.timings().decode_ms;
      t.correct_ms = bands.timings().correct_ms;
      st.gray_hist = bands.histogram();
      st.corrected = st.frame;
      st.bands.reset();
      st.next = frame_step::mask;
      return false;
    }
    case frame_step::correct: {
      // In place: the raw frame is not needed again, and one 37 MB buffer
      // per worker instead of two keeps 3 worker processes under 600 MB.
      // The mask step's gray image and histogram come out of the same pass.
      // Decode once: from the flat's stack slot into the frame buffer.
      kernels::correct_frame_gray(st.source.empty() ? st.frame : st.source,
                                  flat_for(self, item.flat_segment), st.frame, st.gray,
                                  st.gray_hist);
      st.corrected = st.frame;
      st.source.release();
      st.stack.reset();
      t.correct_ms = ms_since(t0);
      st.next = frame_step::mask;
      return false;
    }
    case frame_step::mask: {
      st.mask = frame_mask(self);
      st.result.threshold = st.mask.threshold;
      t.mask_ms = ms_since(t0);
      add_previous_timings(st);
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
    case frame_step::previous:
      previous_step(self);
      return false;
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
      case work_kind::tile_read:
        complete = tile_read_step(self);
        break;
      case work_kind::flat_stream:
        complete = flat_stream_step(self);
        break;
      case work_kind::tile:
        tile_step(self);
        complete = true;
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
  self->state.node = io::this_node_name();
  pull(self);
  return trace::traced_all(self,
    [=](atom::pull) { pull(self); },
    [=](atom::step) { step(self); },
    [=](atom::stop, std::uint64_t job) { self->state.stopped_jobs.insert(job); });
}

segment_worker_actor::behavior_type
node_segment_worker(segment_worker_actor::stateful_pointer<segment_worker_state> self,
                    reader_actor reader, exporter_actor exporter,
                    std::function<void(const std::string&)> flat_provider,
                    std::shared_ptr<std::atomic<std::uint64_t>> frames_counter,
                    std::shared_ptr<io::node_paths> paths) {
  self->state.flat_provider = std::move(flat_provider);
  self->state.frames_counter = std::move(frames_counter);
  self->state.paths = std::move(paths);
  return segment_worker(self, std::move(reader), std::move(exporter));
}

} // namespace seg
