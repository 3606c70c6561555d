#pragma once

// One job as the reader runs it, and the steps of its flat field and frame
// hand-out that need no messaging: reading frames, sizing the acquisition,
// replacing bad flat frames, cutting the median into bands. No CAF here;
// the reader actor (reader.cpp) sends what these steps decide.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/settings.hpp"
#include "kernels/flat_field.hpp"
#include "messages/job.hpp"
#include "messages/work_item.hpp"

namespace seg::shm {
class image_segment;
}

namespace seg {

/// One job as the reader sees it.
struct reader_job {
  enum class phase { opened, recalc_asked, flat_decode, flat_bands, frames, stopped };
  job_plan plan;
  std::string op_id;                  ///< the run's operation id (its events carry it)
  phase current = phase::opened;
  std::uint32_t generation = 1;
  std::shared_ptr<shm::image_segment> stack;
  std::shared_ptr<shm::image_segment> flat;
  std::optional<kernels::flat_window> window; ///< the flat's frames
  std::map<std::uint32_t, std::vector<std::uint8_t>> flat_bytes; ///< read while sizing
  std::int32_t frame_width = 0;       ///< the acquisition's frame size (decoded)
  std::int32_t frame_height = 0;
  std::uint32_t stack_used = 0;       ///< stack slots the median is taken over
  std::string first_flat_problem;     ///< for the error when no frame is good
  std::deque<std::uint32_t> decodes;  ///< stack slots still to hand out
  std::deque<std::pair<int, int>> bands;
  std::uint32_t outstanding = 0;      ///< flat steps handed out, not reported
  std::deque<std::uint32_t> frames;   ///< frame indices still to hand out
  std::deque<work_item> read_ahead;   ///< frames already read
  /// Decode once: frame index -> the stack slot holding it decoded, for the
  /// flat's frames still to be segmented (the stack outlives the flat until
  /// none is left). Empty with decode_once off.
  std::map<std::uint32_t, std::uint32_t> stacked;
  bool decode_once = true;            ///< reader_config::decode_once
  std::int32_t decode_band_rows = 16; ///< reader_config::decode_band_rows
  std::chrono::steady_clock::time_point flat_started;

  // -- flat recalculation (segmentation.flat_recalculate, SPEC §2.1) --
  bool flat_recalculate = false;
  std::vector<std::uint32_t> todo;        ///< frames not committed at run, in order
  std::optional<std::uint32_t> flat_from; ///< the flat is frame j's recalculation
                                          ///< window; nullopt: the initial flat
  /// The superseded flat, kept until the new one is ready so that frames in
  /// flight with it finish (their results are dropped) instead of failing.
  std::shared_ptr<shm::image_segment> previous_flat;

  // -- following an acquisition still being written (pipeline.follow) --
  bool following = false;       ///< frames may still appear in integrity.check
  bool sealed = false;          ///< the acquisition is complete: no frame comes
  bool flat_deferred = false;   ///< run came before the flat's frames exist
  int flat_frames = 10;         ///< segmentation.flat_frames
  double follow_idle_s = 300;   ///< complete after this long without a new frame
  std::chrono::steady_clock::time_point last_growth; ///< a frame last appeared

  // -- tiled frames (DESIGN "Tiled frames") --
  config::tiling_settings tiling_cfg;       ///< which frames are tiled, and how
  std::optional<tile_grid> tiling;          ///< set when the job's frames are tiled
  int frames_in_flight = 1;                 ///< tiled frames read and not yet stitched, at most
  /// A tiled frame between its read and its stitch: its shared memory.
  struct tiled_frame {
    std::uint32_t generation = 0;
    std::shared_ptr<shm::image_segment> pixels; ///< corrected, CV_8UC3
    std::int32_t threshold = -1;                ///< known once it is read
  };
  std::map<std::uint32_t, tiled_frame> tiled; ///< by frame index
  std::vector<std::string> streamed_flat;   ///< the flat's frames, streamed (no stack)
  std::vector<std::uint32_t> streamed_slots; ///< their window slots, in the same order
  std::deque<work_item> tiles;              ///< tiles to hand out, frame by frame
  /// Backpressure: since when a worker found nothing because
  /// frames_in_flight frames wait for the stitcher.
  std::optional<std::chrono::steady_clock::time_point> held_back_since;
  double held_back_ms = 0;                  ///< not yet reported to the stitcher
  bool told_remote_nodes = false;           ///< logged that other hosts get no tiles
};

/// Milliseconds since `t`.
double ms_since(std::chrono::steady_clock::time_point t);

/// Path of frame `index` of the job's acquisition.
std::string frame_path(const job_plan& plan, std::uint32_t index);

/// A work item of `kind` for `job`, with the fields every kind carries.
work_item job_item(const reader_job& job, work_kind kind);

/// A segment work item for frame `index`, with its bytes read; empty bytes
/// when the file cannot be read (the worker reads it itself and reports
/// why, as this frame's failure).
work_item frame_item(const reader_job& job, std::uint32_t index);

/// Starts the job's flat (SPEC §2.1): the initial window, or frame
/// flat_from's recalculation window; the acquisition's frame size (decided
/// by the first flat, kept by a recalculated one); the stack and flat
/// segments; the decodes to hand out. Returns why the job fails, if it does.
std::optional<std::string> start_flat(reader_job& job);

/// The next flat decode to hand out; frames that are unreadable or of the
/// wrong size are replaced here already, without a round trip to a worker.
std::optional<work_item> next_flat_decode(reader_job& job);

/// The frame in flat slot `slot` cannot be used: another frame takes its
/// place, or the slot is dropped when every frame has been tried.
void flat_frame_bad(reader_job& job, std::uint32_t slot, const std::string& why);

/// Every flat slot is decoded or dropped: compacts the chosen frames to the
/// front of the stack and cuts the median into bands, a few per worker of
/// `workers`. Returns why the job fails (no frame is good), if it does.
std::optional<std::string> finish_flat_decodes(reader_job& job, std::uint32_t workers);

/// The flat is ready: frees the stack slots of flat frames that no item
/// needs any more (committed before, or segmented: not to be handed out, not
/// read ahead and not `held` by a worker), and the stack once no slot is
/// left. Called again as workers finish frames.
template <class Held>
void release_stacked(reader_job& job, Held held);

/// The next band of the median to hand out, if any is left.
std::optional<work_item> next_flat_band(reader_job& job);

/// The next frame to segment: a frame read ahead first, else one read now.
std::optional<work_item> next_frame(reader_job& job);

/// The job's last frame is handed out.
bool drained(const reader_job& job);

/// The flat becomes frame `from`'s recalculation window as generation
/// `generation`: every frame from `from` on that is not committed is to be
/// handed out again, and the old flat is kept until the new one is ready.
/// Returns how many of them were handed out already. start_flat follows.
std::uint32_t restart_flat(reader_job& job, std::uint32_t generation, std::uint32_t from);

/// The acquisition's frame size is known: decides whether its frames are
/// tiled (tiling.max_frame_pixels) and cuts them. Returns why the job cannot
/// be segmented tiled, if it cannot.
std::optional<std::string> decide_tiling(reader_job& job);

/// A tiled frame that cannot be read: its shared memory cannot be made.
struct tiled_frame_error : std::runtime_error {
  tiled_frame_error(std::uint32_t frame, const std::string& why)
      : std::runtime_error(why), index(frame) {}
  std::uint32_t index;
};

/// The next piece of work of a tiled job: a tile of a frame read already,
/// else the next frame to read into shared memory (as tile_read) unless
/// job.frames_in_flight frames wait for the stitcher. Throws
/// tiled_frame_error (naming the file) when the frame's memory cannot be made.
std::optional<work_item> next_tiled_work(reader_job& job);

/// Frame `position` of a streamed flat failed to decode: another frame takes
/// its place (or it is dropped) and the stream starts again. Returns why the
/// job fails (no frame is left, or `position` names none), if it does.
std::optional<std::string> streamed_flat_frame_bad(reader_job& job, std::uint32_t position,
                                                   const std::string& why);

/// Tile `tile` of tiled frame `index` (read already), to hand out.
work_item tile_item(const reader_job& job, std::uint32_t index, std::int32_t tile);

/// Whether frame `index` is still to be handed out or read ahead.
bool frame_pending(const reader_job& job, std::uint32_t index);

/// Frees the pages of stack slot `slot` (see shm::image_segment::discard).
void discard_slot(reader_job& job, std::uint32_t slot);

template <class Held>
void release_stacked(reader_job& job, Held held) {
  for (auto it = job.stacked.begin(); it != job.stacked.end();) {
    if (frame_pending(job, it->first) || held(it->first)) {
      ++it;
      continue;
    }
    discard_slot(job, it->second);
    it = job.stacked.erase(it);
  }
  if (job.stacked.empty())
    job.stack.reset();
}

} // namespace seg
