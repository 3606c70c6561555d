#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"

namespace seg::shm {
class image_segment;
}

namespace seg {

/// Settings of the reader.
struct reader_config {
  config::sources base;          ///< settings sources; a job's overrides go on top
  std::uint32_t workers = 1;     ///< flat bands are cut for this many workers
  std::uint32_t reads_ahead = 2; ///< frames read ahead of the workers
  exporter_actor exporter;       ///< where a frame whose worker was lost twice fails
  /// pipeline.frame_timeout_s: an item held longer is abandoned (0 = never).
  double frame_timeout_s = 120;
};

/// Which frames the flat field is computed from (SPEC-planktoscope §2.1),
/// with bad frames replaced. Pure bookkeeping: no files, no CAF.
///
/// The window has k slots, k = initial_flat_indices(frame_count,
/// flat_frames).size(), holding frames 0..k-1 at first. When a slot's frame
/// is bad, the slot takes the first frame after the window not tried yet;
/// when none is left the slot is dropped. So the flat is made of the first k
/// good frames; when fewer than k frames are good, of the SPEC §2.1 count of
/// the good frames (all of them, an even count less one). Either way it is
/// the flat of the same acquisition without its bad files.
class flat_window {
public:
  /// @param frame_count frames in the acquisition
  /// @param flat_frames segmentation.flat_frames (the reference's 10)
  flat_window(std::size_t frame_count, std::size_t flat_frames);

  /// A window of the given frames (a recalculation window, SPEC §2.1); a
  /// bad one is replaced by the first frame after the window not tried yet.
  /// @pre frames is not empty, ascending, every frame < frame_count
  flat_window(const std::vector<std::size_t>& frames, std::size_t frame_count);

  /// Number of slots, k.
  std::size_t slots() const;

  /// The frame index slot `slot` holds now.
  std::uint32_t frame(std::size_t slot) const;

  /// The frame in `slot` is bad: returns the frame that takes its place, or
  /// nullopt if every frame has been tried (the slot is dropped). A slot
  /// already accepted or dropped is left as it is (nullopt).
  std::optional<std::uint32_t> replace(std::size_t slot);

  /// The frame in `slot` is good.
  void accept(std::size_t slot);

  /// Every slot is accepted or dropped.
  bool complete() const;

  /// The slots to compute the flat from, in frame order (empty if no frame
  /// is good). @pre complete()
  std::vector<std::size_t> chosen() const;

  /// Frames found bad so far.
  std::size_t bad_frames() const;

private:
  enum class slot_state : std::uint8_t { pending, good, dropped };
  std::vector<std::uint32_t> frames_;
  std::vector<slot_state> states_;
  std::size_t next_ = 0;       ///< first frame not tried yet
  std::size_t frame_count_ = 0;
  std::size_t bad_ = 0;
};

/// One job as the reader sees it.
struct reader_job {
  enum class phase { opened, recalc_asked, flat_decode, flat_bands, frames, stopped };
  job_plan plan;
  phase current = phase::opened;
  std::uint32_t generation = 1;
  std::shared_ptr<shm::image_segment> stack;
  std::shared_ptr<shm::image_segment> flat;
  std::optional<flat_window> window;  ///< the flat's frames
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
  std::chrono::steady_clock::time_point flat_started;
  /// Items lost with their worker, by (work_kind, frame index / stack slot /
  /// first band row): lost once = handed out again, twice = failed.
  std::map<std::pair<std::uint8_t, std::int64_t>, std::uint32_t> losses;

  // -- flat recalculation (segmentation.flat_recalculate, SPEC §2.1) --
  bool flat_recalculate = false;
  std::vector<std::uint32_t> todo;        ///< frames not committed at run, in order
  std::optional<std::uint32_t> flat_from; ///< the flat is frame j's recalculation
                                          ///< window; nullopt: the initial flat
  /// The superseded flat, kept until the new one is ready so that frames in
  /// flight with it finish (their results are dropped) instead of failing.
  std::shared_ptr<shm::image_segment> previous_flat;
};

/// The item a worker holds, enough to hand it out again if the worker is
/// lost (its process dies).
struct held_item {
  std::uint64_t job_id = 0;
  std::uint32_t generation = 0;
  std::uint8_t kind = 0;     ///< a work_kind
  std::uint32_t index = 0;   ///< frame index (segment) or stack slot (flat decode)
  std::int32_t row_begin = 0;
  std::int32_t row_end = 0;
  std::chrono::steady_clock::time_point since; ///< handed out
};

/// A worker waiting for work (its pull request).
struct waiting_worker {
  caf::actor_addr who;
  caf::typed_response_promise<work_item> rp;
};

struct reader_state {
  static inline const char* name = "reader";
  reader_config cfg;
  queue_actor queue;
  status_hub_actor hub;
  std::deque<reader_job> jobs; ///< in run order
  std::deque<waiting_worker> waiting;         ///< idle workers
  /// What each worker holds: a worker works on one item at a time and pulls
  /// again when done, so its next pull ends its hold. Workers are monitored;
  /// a lost worker's item goes back to the front of its job.
  std::map<caf::actor_addr, held_item> held;
  std::set<caf::actor_addr> monitored;
  /// Workers whose item overran the time limit: their late results are
  /// dropped and their next pull is answered with shutdown.
  std::set<caf::actor_addr> abandoned;
  /// Supervisors of worker processes, by node (see atom::join).
  std::map<caf::node_id, caf::actor> supervisors;
  /// Workers this reader spawned to replace abandoned in-process ones.
  std::vector<segment_worker_actor> replacements;
  bool prefetch_scheduled = false;
  bool tick_scheduled = false;
};

/// How far past the lowest frame in flight a job with the recalculation
/// heuristic hands frames out (see reader.cpp).
inline std::uint32_t recalc_window(const reader_config& cfg) {
  return std::max<std::uint32_t>(8, 4 * cfg.workers);
}

/// The reader: see reader_actor in interfaces.hpp.
reader_actor::behavior_type reader(reader_actor::stateful_pointer<reader_state> self,
                                   reader_config cfg, queue_actor queue,
                                   status_hub_actor hub);

/// Resolves a job's plan from its folder, metadata and settings (CAF-free
/// part of the reader, exposed for tests). Throws std::runtime_error naming
/// the file and the problem: the folder (missing, not under img/, no
/// frames), metadata.json (missing, invalid JSON, missing keys, ids unusable
/// in file names, columns EcoTaxa would refuse when export.ecotaxa is on),
/// process_pixel when segmentation.require_process_pixel is set, or the
/// settings.
job_plan resolve_plan(const job_spec& spec, const config::sources& base);

/// A job's settings: `base` with the job's overrides ("key=value") on top.
/// Throws config::config_error or std::runtime_error naming the problem.
config::settings job_settings(const job_spec& spec, const config::sources& base);

} // namespace seg
