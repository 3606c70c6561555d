#include "actors/tile_stitcher.hpp"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/feature_vector.hpp"
#include "actors/tile_codec.hpp"
#include "actors/trace.hpp"
#include "shm/image_segment.hpp"

namespace seg {

namespace {

using self_ptr = tile_stitcher_actor::stateful_pointer<tile_stitcher_state>;
using clock_type = std::chrono::steady_clock;
using frame_key = std::tuple<std::uint64_t, std::uint32_t, std::uint32_t>;

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The frame's result as an untiled worker would have sent it.
frame_result result_of(stitch_frame& f) {
  frame_result r;
  r.job_id = f.frame.job_id;
  r.generation = f.frame.generation;
  r.kind = work_kind::segment;
  r.index = f.frame.index;
  r.name = f.frame.name;
  r.threshold = f.frame.threshold;
  r.timings = f.timings;
  r.node = f.frame.node;
  r.tiles = f.stats;
  return r;
}

// The frame is over (stitched, failed or dropped): the reader frees its
// shared memory and may read the next tiled frame.
void close_frame(self_ptr self, std::map<frame_key, stitch_frame>::iterator it) {
  auto& f = it->second;
  if (f.reader)
    self->send(f.reader, atom::stitched::value, f.frame.job_id, f.frame.generation,
               f.frame.index);
  self->state.frames.erase(it);
}

void fail_frame(self_ptr self, std::map<frame_key, stitch_frame>::iterator it,
                const std::string& why) {
  auto r = result_of(it->second);
  r.ok = false;
  r.error = why;
  spdlog::error("tiled_frame_failed job={} frame={} error=\"{}\"", r.job_id, r.name, why);
  self->send(self->state.exporter, std::move(r));
  close_frame(self, it);
}

void open_frame(self_ptr self, tile_frame tf, reader_actor reader) {
  frame_key key{tf.job_id, tf.generation, tf.index};
  if (self->state.frames.count(key) > 0)
    return; // told twice (a re-read after a loss): the open frame goes on
  // A newer flat generation: frames of older ones never complete (their
  // tiles were withdrawn) and would hold their memory.
  auto& frames = self->state.frames;
  for (auto it = frames.begin(); it != frames.end();) {
    auto next = std::next(it);
    if (std::get<0>(it->first) == tf.job_id && std::get<1>(it->first) < tf.generation)
      close_frame(self, it);
    it = next;
  }
  stitch_frame f;
  f.frame = std::move(tf);
  f.reader = std::move(reader);
  f.timings = f.frame.timings;
  f.stats.frame_pixels = std::int64_t(f.frame.grid.frame_width) * f.frame.grid.frame_height;
  f.stats.held_back_ms = f.frame.held_back_ms;
  f.stats.read_ms = f.frame.timings.decode_ms + f.frame.timings.correct_ms;
  auto it = self->state.frames.emplace(key, std::move(f)).first;
  auto& sf = it->second;
  try {
    sf.pixels = shm::image_segment::open(sf.frame.pixels_segment, false);
    auto layout = to_layout(sf.frame.grid);
    if (sf.pixels->rows() != layout.frame.height || sf.pixels->cols() != layout.frame.width
        || sf.pixels->type() != CV_8UC3)
      throw std::runtime_error("segment " + sf.frame.pixels_segment
                               + " does not hold the frame's pixels");
    auto pixels = sf.pixels;
    sf.merge = std::make_unique<kernels::tile_stitcher>(
      layout, to_kernel_params(sf.frame.params),
      [pixels](const cv::Rect& r) { return pixels->image()(r); });
  } catch (const std::exception& e) {
    fail_frame(self, it, sf.frame.name + ": stitching its tiles: " + e.what());
  }
}

void add_tile(self_ptr self, tile_report& r) {
  auto it = self->state.frames.find(frame_key{r.job_id, r.generation, r.index});
  if (it == self->state.frames.end())
    return; // its frame failed, was stopped, or is stitched: a late repeat
  auto& f = it->second;
  if (!f.tiles_in.insert(r.tile).second)
    return; // re-run after a loss: the first result counts
  if (!r.ok)
    return fail_frame(self, it, r.error);
  // Stages stay the frame's read, decode and correct: a tile's segmentation
  // is one kernel call, counted apart (tile_stats::segment_ms).
  f.timings.wait_ms += r.timings.wait_ms;
  f.stats.tiles += 1;
  f.stats.tile_pixels += r.pixels;
  f.stats.segment_ms += r.timings.mask_ms;
  try {
    f.merge->add(to_tile_result(r));
  } catch (const std::exception& e) {
    return fail_frame(self, it, f.frame.name + ": tile " + std::to_string(r.tile)
                                  + ": " + e.what());
  }
  if (!f.merge->complete())
    return;
  auto res = result_of(f);
  auto objects = f.merge->take_objects();
  res.objects.reserve(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i) {
    object_record rec;
    rec.index = std::uint32_t(i);
    rec.features = to_vector(objects[i].features);
    rec.crop_jpeg = std::move(objects[i].crop_jpeg);
    res.objects.push_back(std::move(rec));
  }
  spdlog::debug("tiled_frame_stitched job={} frame={} tiles={} objects={} merged={}",
                res.job_id, res.name, f.stats.tiles, res.objects.size(),
                f.merge->merged_objects());
  // This message's own time: timed() cannot add it once the frame is gone.
  res.tiles.stitch_ms += ms_between(self->state.message_started, clock_type::now());
  self->send(self->state.exporter, std::move(res));
  close_frame(self, it);
}

// Runs `f` as one message of work: its time is the stitcher's own, the time
// since the previous message with a frame open is its wait for tiles.
template <class F>
void timed(self_ptr self, std::uint64_t job, std::uint32_t generation, std::uint32_t index,
           F f) {
  auto& st = self->state;
  auto start = clock_type::now();
  st.message_started = start;
  double wait = st.frames.empty() ? 0 : ms_between(st.idle_since, start);
  auto key = frame_key{job, generation, index};
  if (auto it = st.frames.find(key); it != st.frames.end())
    it->second.stats.stitch_wait_ms += wait;
  f();
  auto end = clock_type::now();
  if (auto it = st.frames.find(key); it != st.frames.end())
    it->second.stats.stitch_ms += ms_between(start, end);
  st.idle_since = end;
}

} // namespace

tile_stitcher_actor::behavior_type
tile_stitcher(tile_stitcher_actor::stateful_pointer<tile_stitcher_state> self,
              exporter_actor exporter) {
  self->state.exporter = std::move(exporter);
  self->state.idle_since = clock_type::now();
  return trace::traced_all(self,
    [=](atom::open, tile_frame& tf, reader_actor& reader) {
      auto job = tf.job_id;
      auto gen = tf.generation;
      auto index = tf.index;
      timed(self, job, gen, index,
            [&] { open_frame(self, std::move(tf), std::move(reader)); });
    },
    [=](tile_report& r) {
      timed(self, r.job_id, r.generation, r.index, [&] { add_tile(self, r); });
    },
    [=](atom::stop, std::uint64_t job) {
      auto& frames = self->state.frames;
      for (auto it = frames.begin(); it != frames.end();) {
        auto next = std::next(it);
        if (std::get<0>(it->first) == job)
          close_frame(self, it);
        it = next;
      }
    });
}

} // namespace seg
