#include "actors/reader_job.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>

#include <spdlog/spdlog.h>

#include "actors/io/frame_file.hpp"
#include "actors/tile_codec.hpp"
#include "kernels/decode.hpp"
#include "kernels/frame_bands.hpp"
#include "shm/image_segment.hpp"

namespace seg {

namespace {

using clock_type = std::chrono::steady_clock;

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

// Why the encoded frame cannot go into the stack, or "" if it can.
std::string flat_frame_problem(const reader_job& job, const std::string& path,
                               const std::vector<std::uint8_t>& bytes) {
  std::string why;
  auto info = kernels::probe_frame(bytes.data(), bytes.size(), &why);
  if (!info)
    return path + ": " + why;
  if (auto problem =
        io::frame_size_problem(path, info->coded, job.plan.params.max_frame_pixels);
      !problem.empty())
    return problem;
  if (info->decoded.width != job.frame_width || info->decoded.height != job.frame_height)
    return path + ": size " + io::size_text(info->decoded.width, info->decoded.height)
           + " differs from the acquisition's "
           + io::size_text(job.frame_width, job.frame_height);
  return {};
}

// Decides the acquisition's frame size from the headers of the flat window's
// frames (the most common size; ties go to the earliest frame), reading
// further frames only when none of those is a usable frame. Keeps the bytes
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
    std::string why;
    auto info = kernels::probe_frame(bytes.data(), bytes.size(), &why);
    auto oversize = info ? io::frame_size_problem(frame_path(plan, frame), info->coded,
                                                  plan.params.max_frame_pixels)
                         : std::string();
    if (!info || !oversize.empty()) {
      if (problem.empty())
        problem = info ? oversize : frame_path(plan, frame) + ": " + why;
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

} // namespace

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

std::string frame_path(const job_plan& plan, std::uint32_t index) {
  return (std::filesystem::path(plan.acquisition) / plan.frames[index]).string();
}

work_item job_item(const reader_job& job, work_kind kind) {
  work_item item;
  item.kind = kind;
  item.job_id = job.plan.id;
  item.generation = job.generation;
  item.params = job.plan.params;
  return item;
}

work_item frame_item(const reader_job& job, std::uint32_t index) {
  auto item = job_item(job, work_kind::segment);
  item.index = index;
  item.name = job.plan.frames[index];
  item.path = frame_path(job.plan, index);
  item.flat_segment = job.flat->name();
  if (auto it = job.stacked.find(index); it != job.stacked.end() && job.stack) {
    item.stack_segment = job.stack->name();
    item.stack_slot = std::int32_t(it->second);
  }
  item.band_rows = job.decode_band_rows;
  item.previous = previous_frames(job.plan, index);
  try {
    item.bytes = read_frame(job.plan, item.name, item.read_ms);
  } catch (const std::exception&) {
    item.bytes.clear();
  }
  return item;
}

namespace {

// A tiled acquisition's flat: its frames are too big to stack, so one worker
// streams them (work_kind::flat_stream). The slots still to check are in
// job.decodes: their headers are checked here and a bad one replaced, as the
// stacked flat's decodes would; checked slots stay pending in the window
// until the stream is done, so a frame that fails to decode in the stream
// can still be replaced (streamed_flat_frame_bad).
std::optional<std::string> stream_flat_frames(reader_job& job) {
  auto& plan = job.plan;
  auto& w = *job.window;
  while (!job.decodes.empty()) {
    auto slot = job.decodes.front();
    job.decodes.pop_front();
    auto frame = w.frame(slot);
    auto path = frame_path(plan, frame);
    std::vector<std::uint8_t> bytes;
    std::string problem;
    if (auto it = job.flat_bytes.find(frame); it != job.flat_bytes.end()) {
      bytes = std::move(it->second);
      job.flat_bytes.erase(it);
    } else {
      double ms = 0;
      try {
        bytes = read_frame(plan, plan.frames[frame], ms);
      } catch (const std::exception& e) {
        problem = e.what();
      }
    }
    if (problem.empty())
      problem = flat_frame_problem(job, path, bytes);
    if (problem.empty()) {
      if (auto info = kernels::probe_frame(bytes.data(), bytes.size())) {
        if (auto why = kernels::tiled_frame_problem(*info); !why.empty())
          problem = path + ": " + why;
      }
    }
    if (!problem.empty()) {
      flat_frame_bad(job, slot, problem); // the replacement goes to job.decodes
      continue;
    }
    job.streamed_slots.push_back(std::uint32_t(slot));
  }
  job.flat_bytes.clear();
  auto settled = w; // chosen() needs every slot settled; the window stays open
  for (auto s : job.streamed_slots)
    settled.accept(s);
  auto chosen = settled.complete() ? settled.chosen() : std::vector<std::size_t>{};
  if (chosen.empty())
    return "flat field: none of the acquisition's " + std::to_string(plan.frames.size())
           + " frames can be used (first problem: " + job.first_flat_problem + ")";
  job.streamed_slots.assign(chosen.begin(), chosen.end());
  job.streamed_flat.clear();
  for (auto s : chosen)
    job.streamed_flat.push_back(plan.frames[w.frame(s)]);
  job.stacked.clear();
  job.bands.clear();
  job.bands.emplace_back(0, job.frame_height);
  job.outstanding = 0;
  job.current = reader_job::phase::flat_bands;
  spdlog::info("flat_started job={} frames={} size={}x{} streamed=true", plan.id,
               chosen.size(), job.frame_width, job.frame_height);
  return std::nullopt;
}

std::optional<std::string> start_streamed_flat(reader_job& job) {
  try {
    job.flat = shm::image_segment::create(
      shm::segment_name(job.plan.id, job.generation, "flat"), job.frame_height,
      job.frame_width, CV_8UC3, 1);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  job.flat_started = clock_type::now();
  job.streamed_slots.clear();
  job.decodes.clear();
  for (std::uint32_t i = 0; i < job.window->slots(); ++i)
    job.decodes.push_back(i);
  return stream_flat_frames(job);
}

} // namespace

std::optional<std::string> start_flat(reader_job& job) {
  auto& plan = job.plan;
  if (job.flat_from)
    job.window.emplace(kernels::recalc_flat_indices(*job.flat_from, plan.frames.size()),
                       plan.frames.size());
  else
    job.window.emplace(plan.frames.size(), plan.flat_frames.size());
  std::string problem;
  // A recalculated flat keeps the size the first flat decided.
  if (job.frame_width == 0) {
    if (!size_frames(job, problem))
      return "flat field: no frame of the acquisition is a usable JPEG, PNG or TIFF frame ("
             + problem + ")";
    if (auto why = decide_tiling(job))
      return why;
  }
  if (job.tiling)
    return start_streamed_flat(job);
  try {
    auto count = int(job.window->slots());
    job.stack = shm::image_segment::create(
      shm::segment_name(plan.id, job.generation, "stack"), job.frame_height, job.frame_width,
      CV_8UC3, count);
    job.flat = shm::image_segment::create(
      shm::segment_name(plan.id, job.generation, "flat"), job.frame_height, job.frame_width,
      CV_8UC3, 1);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  job.current = reader_job::phase::flat_decode;
  job.flat_started = clock_type::now();
  for (std::uint32_t i = 0; i < job.window->slots(); ++i)
    job.decodes.push_back(i);
  spdlog::info("flat_started job={} frames={} size={}x{}", plan.id, job.window->slots(),
               job.frame_width, job.frame_height);
  return std::nullopt;
}

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

std::optional<std::string> finish_flat_decodes(reader_job& job, std::uint32_t workers) {
  auto& w = *job.window;
  auto chosen = w.chosen();
  if (chosen.empty())
    return "flat field: none of the acquisition's " + std::to_string(job.plan.frames.size())
           + " frames can be used (first problem: " + job.first_flat_problem + ")";
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
  // Decode once: slot j holds frame w.frame(chosen[j]) now; the frames are
  // segmented from there.
  job.stacked.clear();
  if (job.decode_once)
    for (std::size_t j = 0; j < chosen.size(); ++j)
      job.stacked[w.frame(chosen[j])] = std::uint32_t(j);
  // Cut the median into bands, a few per worker so a slow worker does not
  // hold the others up.
  int rows = job.flat->rows();
  int bands = int(std::max<std::uint32_t>(1, workers)) * 2;
  int step = std::max(1, (rows + bands - 1) / bands);
  for (int b = 0; b < rows; b += step)
    job.bands.emplace_back(b, std::min(rows, b + step));
  job.current = reader_job::phase::flat_bands;
  return std::nullopt;
}

std::optional<work_item> next_flat_band(reader_job& job) {
  if (job.bands.empty())
    return std::nullopt;
  auto [begin, end] = job.bands.front();
  job.bands.pop_front();
  ++job.outstanding;
  if (!job.streamed_flat.empty()) {
    auto item = job_item(job, work_kind::flat_stream);
    // A failed result names the frame to blame by its position; none here.
    item.index = std::numeric_limits<std::uint32_t>::max();
    item.path = frame_path(job.plan, 0);
    item.flat_names = job.streamed_flat;
    item.flat_segment = job.flat->name();
    item.row_begin = begin;
    item.row_end = end;
    return item;
  }
  auto item = job_item(job, work_kind::flat_band);
  item.stack_segment = job.stack->name();
  item.flat_segment = job.flat->name();
  item.stack_count = job.stack_used;
  item.row_begin = begin;
  item.row_end = end;
  return item;
}

std::optional<work_item> next_frame(reader_job& job) {
  if (!job.read_ahead.empty()) {
    auto item = std::move(job.read_ahead.front());
    job.read_ahead.pop_front();
    return item;
  }
  if (!job.frames.empty()) {
    auto index = job.frames.front();
    job.frames.pop_front();
    return frame_item(job, index);
  }
  return std::nullopt;
}

bool frame_pending(const reader_job& job, std::uint32_t index) {
  return std::find(job.frames.begin(), job.frames.end(), index) != job.frames.end()
         || std::any_of(job.read_ahead.begin(), job.read_ahead.end(),
                        [index](const work_item& item) { return item.index == index; });
}

void discard_slot(reader_job& job, std::uint32_t slot) {
  if (job.stack)
    job.stack->discard(int(slot));
}

bool drained(const reader_job& job) {
  return job.frames.empty() && job.read_ahead.empty() && (!job.following || job.sealed);
}

std::uint32_t restart_flat(reader_job& job, std::uint32_t generation, std::uint32_t from) {
  std::set<std::uint32_t> not_out(job.frames.begin(), job.frames.end());
  for (auto& item : job.read_ahead)
    not_out.insert(item.index);
  std::uint32_t redo = 0;
  job.frames.clear();
  for (auto k : job.todo) {
    if (k < from)
      continue;
    redo += not_out.count(k) == 0 ? 1 : 0;
    job.frames.push_back(k);
  }
  job.read_ahead.clear();
  job.generation = generation;
  job.flat_from = from;
  if (job.flat)
    job.previous_flat = std::move(job.flat);
  job.stack.reset();
  job.stacked.clear();
  job.window.reset();
  job.decodes.clear();
  job.bands.clear();
  job.outstanding = 0;
  job.stack_used = 0;
  job.flat_bytes.clear();
  job.first_flat_problem.clear();
  // Tiled frames of the old flat: their late tiles are stale at the stitcher.
  job.tiles.clear();
  job.tiled.clear();
  return redo;
}

std::optional<std::string> streamed_flat_frame_bad(reader_job& job, std::uint32_t position,
                                                   const std::string& why) {
  if (position >= job.streamed_slots.size())
    return "flat field: " + why;
  auto slot = job.streamed_slots[position];
  job.streamed_slots.erase(job.streamed_slots.begin() + position);
  flat_frame_bad(job, slot, why);
  return stream_flat_frames(job);
}

std::optional<std::string> decide_tiling(reader_job& job) {
  auto& cfg = job.tiling_cfg;
  auto pixels = std::int64_t(job.frame_width) * job.frame_height;
  if (cfg.max_frame_pixels > 0 && pixels <= cfg.max_frame_pixels)
    return std::nullopt;
  if (job.plan.params.remove_previous_mask)
    return job.plan.acquisition + ": frames of " + io::size_text(job.frame_width, job.frame_height)
           + " are tiled (tiling.max_frame_pixels = " + std::to_string(cfg.max_frame_pixels)
           + "), and tiled frames do not support segmentation.remove_previous_mask";
  auto layout = kernels::make_tile_layout({job.frame_width, job.frame_height},
                                          {cfg.tile_width, cfg.tile_height},
                                          to_kernel_params(job.plan.params));
  job.tiling = to_grid(layout);
  job.frames_in_flight = config::tiled_frames_in_flight(cfg, pixels * 3);
  // A tiled frame is decoded into shared memory of its own, once: the
  // flat's stack is not kept to segment its frames from.
  job.decode_once = false;
  spdlog::info("tiled_frames job={} size={}x{} tile={}x{} halo={} tiles={} in_flight={}",
               job.plan.id, job.frame_width, job.frame_height, layout.tile.width,
               layout.tile.height, layout.halo, layout.count(), job.frames_in_flight);
  return std::nullopt;
}

work_item tile_item(const reader_job& job, std::uint32_t index, std::int32_t tile) {
  auto& f = job.tiled.at(index);
  auto item = job_item(job, work_kind::tile);
  item.generation = f.generation;
  item.index = index;
  item.name = job.plan.frames[index];
  item.path = frame_path(job.plan, index);
  item.grid = *job.tiling;
  item.tile = tile;
  item.pixels_segment = f.pixels->name();
  item.threshold = f.threshold;
  return item;
}

std::optional<work_item> next_tiled_work(reader_job& job) {
  if (!job.tiles.empty()) {
    auto item = std::move(job.tiles.front());
    job.tiles.pop_front();
    return item;
  }
  if (job.tiled.size() >= std::size_t(job.frames_in_flight)) {
    if (!drained(job) && !job.held_back_since)
      job.held_back_since = clock_type::now();
    return std::nullopt;
  }
  auto item = next_frame(job);
  if (!item)
    return std::nullopt;
  item->kind = work_kind::tile_read;
  item->grid = *job.tiling;
  auto tag = std::to_string(item->index);
  reader_job::tiled_frame f;
  f.generation = job.generation;
  try {
    f.pixels = shm::image_segment::create(
      shm::segment_name(job.plan.id, job.generation, "tiled" + tag), job.frame_height,
      job.frame_width, CV_8UC3, 1);
  } catch (const std::exception& e) {
    throw tiled_frame_error(item->index,
                            item->path + ": shared memory for the tiled frame: " + e.what());
  }
  item->pixels_segment = f.pixels->name();
  job.tiled[item->index] = std::move(f);
  return item;
}

} // namespace seg
