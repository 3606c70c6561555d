// The reader's part in tiled frames (DESIGN "Tiled frames"): a frame is read
// by one worker into shared memory, its tiles go to every worker of this
// host, and the tile stitcher says when the frame's memory may go. At most
// tiling.frames_in_flight frames (fewer when tiling.frames_memory_mb cannot
// hold them) are between their read and their stitch:
// that bound is the stitcher's backpressure on the reader.

#include "actors/reader_internal.hpp"

#include <algorithm>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "shm/image_segment.hpp"

namespace seg::detail {

namespace {

// Tells the exporter that tiled frame `index` failed.
void fail_tiled_frame(reader_ptr self, reader_job& job, std::uint32_t index,
                      std::uint32_t generation, const std::string& why) {
  frame_result r;
  r.job_id = job.plan.id;
  r.generation = generation;
  r.kind = work_kind::segment;
  r.index = index;
  r.name = job.plan.frames[index];
  r.ok = false;
  r.error = why;
  self->send(self->state.cfg.exporter, std::move(r));
  job.tiled.erase(index);
}

} // namespace

std::optional<work_item> next_tiled(reader_ptr self, reader_job& job) {
  try {
    return next_tiled_work(job);
  } catch (const tiled_frame_error& e) {
    // next_tiled_work took the frame: it fails, the job goes on.
    spdlog::error("tiled_frame_failed job={} error=\"{}\"", job.plan.id, e.what());
    fail_tiled_frame(self, job, e.index, job.generation, e.what());
    return std::nullopt;
  }
}

void tiled_frame_read(reader_ptr self, const frame_result& r) {
  auto* job = find_job(self, r.job_id);
  if (job == nullptr || !job->tiling || job->generation != r.generation)
    return; // stopped, failed, or read with a superseded flat
  auto it = job->tiled.find(r.index);
  if (it == job->tiled.end() || it->second.generation != r.generation
      || it->second.threshold >= 0)
    return; // a late repeat
  if (!r.ok) {
    fail_tiled_frame(self, *job, r.index, r.generation, r.error);
    return serve_waiting(self);
  }
  auto& f = it->second;
  f.threshold = std::int32_t(r.threshold);
  tile_frame tf;
  tf.job_id = r.job_id;
  tf.generation = r.generation;
  tf.index = r.index;
  tf.name = r.name;
  tf.grid = *job->tiling;
  tf.pixels_segment = f.pixels->name();
  tf.threshold = f.threshold;
  tf.params = job->plan.params;
  tf.timings = r.timings;
  tf.node = r.node;
  tf.held_back_ms = job->held_back_ms;
  job->held_back_ms = 0;
  // Sent before any tile goes out, so the stitcher has the frame open (and
  // its memory mapped) before the first tile's result.
  self->send(self->state.cfg.exporter, atom::open::value, std::move(tf));
  for (std::int32_t t = 0; t < job->tiling->count(); ++t)
    job->tiles.push_back(tile_item(*job, r.index, t));
  serve_waiting(self);
}

void tiled_frame_stitched(reader_ptr self, std::uint64_t id, std::uint32_t generation,
                          std::uint32_t index) {
  auto* job = find_job(self, id);
  if (job == nullptr)
    return;
  auto it = job->tiled.find(index);
  if (it == job->tiled.end() || it->second.generation != generation)
    return;
  // Tiles still queued belong to a frame that failed at the stitcher.
  auto& tiles = job->tiles;
  tiles.erase(std::remove_if(tiles.begin(), tiles.end(),
                             [&](const work_item& w) {
                               return w.index == index && w.generation == generation;
                             }),
              tiles.end());
  job->tiled.erase(it);
  if (job->held_back_since) {
    job->held_back_ms += ms_since(*job->held_back_since);
    job->held_back_since.reset();
  }
  serve_waiting(self);
}

void tiled_item_lost(reader_ptr self, reader_job& job, const held_item& h, bool retry,
                     const std::string& why) {
  auto it = job.tiled.find(h.index);
  if (it == job.tiled.end() || it->second.generation != h.generation)
    return; // the frame is over already
  if (h.kind == work_kind::tile_read) {
    if (retry) {
      job.tiled.erase(it); // read again from the start, into new memory
      job.read_ahead.push_front(frame_item(job, h.index));
    } else {
      fail_tiled_frame(self, job, h.index, h.generation, why);
    }
    return;
  }
  if (retry) {
    job.tiles.push_front(tile_item(job, h.index, h.tile));
    return;
  }
  // The stitcher has the frame open: it fails it there and tells us.
  tile_report r;
  r.job_id = h.job_id;
  r.generation = h.generation;
  r.index = h.index;
  r.tile = h.tile;
  r.ok = false;
  r.error = why;
  self->send(self->state.cfg.exporter, std::move(r));
}

} // namespace seg::detail
