#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>
#include <caf/spawn_options.hpp>

#include "actors/interfaces.hpp"
#include "actors/io/op_journal.hpp"
#include "actors/io/output_layout.hpp"

namespace seg {

/// One job as the exporter sees it.
struct export_job {
  job_plan plan;
  io::output_layout layout;           ///< where the job's outputs go
  std::set<std::uint32_t> committed;
  std::uint32_t resumed = 0;
  /// Why each failed frame failed, by frame index: the summary lists them in
  /// frame order, whichever worker reported first.
  std::map<std::uint32_t, std::string> failures;
  std::set<std::uint32_t> failed;
  std::uint32_t new_objects = 0;
  /// This run's settled frames by the node that segmented them.
  std::map<std::string, std::uint32_t> frames_by_node;
  stage_totals stages;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point last_result;

  // -- flat recalculation (planktoscope profile, SPEC-planktoscope §2.1) --
  // The heuristic needs the object counts in frame order, so results are
  // held until their predecessors are in and committed in order: a record
  // on disk is always final (no retraction), and the held results are
  // bounded by the frames handed out ahead of the oldest one in flight.
  bool in_order = false;                 ///< the reader asked for the heuristic
  reader_actor reader;                   ///< where reflat goes
  std::uint32_t cursor = 0;              ///< next frame to settle, in order
  std::uint32_t generation = 1;          ///< flat generation results must carry
  std::uint32_t flat_from = 0;           ///< generation > 1: the frame whose
                                         ///< recalculation window the flat is
  double average_objects = 0;            ///< the heuristic's running mean
  std::map<std::uint32_t, std::uint32_t> recorded; ///< objects of frames committed
                                                   ///< by an earlier run
  std::map<std::uint32_t, frame_result> ahead; ///< results past the cursor
  std::uint32_t stale = 0;               ///< results dropped: superseded flat
  std::size_t ahead_max = 0;             ///< most results held at once
  std::uint32_t recalculations = 0;

  // -- following an acquisition still being written (pipeline.follow) --
  bool following = false;                ///< plan.frames grows (names from results)
  bool sealed = false;                   ///< no more frames come: may finish

  // -- the operations journal (when the exporter has one) --
  std::optional<io::op_record> op;       ///< this run's operation
  /// Its id, carried by the run's events and summary: the journal's, or in
  /// a replay the recorded one.
  std::string op_id;

  // -- group commit (exporter_config::commit_frames > 1) --
  std::vector<frame_result> group;       ///< settled results not yet on disk
  std::uint64_t group_seq = 0;           ///< which group a flush timer is for

  /// The tile stitcher had frames of this job: it drops what is left of
  /// them when the job ends (frames of a superseded flat).
  bool tiled = false;
};

/// Settings of an exporter.
struct exporter_config {
  /// The state directory whose operations journal records each job run and
  /// its export scope (see actors/io/op_journal.hpp); empty: no journal and
  /// no export lock (tests, replay).
  std::string state_dir;
  /// A stuck operation to replay (`segflow ops recover`): the job of its
  /// acquisition runs under its id and reuses its locks and TSV identity.
  std::optional<io::op_record> recover;
  /// Group commit: the results settled within `commit_window` of the first
  /// one, at most `commit_frames` of them, are committed together (one
  /// syncfs for all their crops and records). 1: each frame is committed
  /// alone as its result arrives (export.commit_frames).
  std::uint32_t commit_frames = 1;
  std::chrono::milliseconds commit_window{0};
  /// Without a journal (replay): the operation id each run id had when it
  /// was recorded, so the replayed messages carry the same ids.
  std::map<std::uint64_t, std::string> recorded_ops;
};

struct exporter_state {
  static inline const char* name = "exporter";
  queue_actor queue;
  status_hub_actor hub;
  std::map<std::uint64_t, export_job> jobs;
  /// follow messages of jobs not begun yet: frames so far, sealed.
  std::map<std::uint64_t, std::pair<std::uint32_t, bool>> follow_pending;
  /// The operations journal, if configured.
  std::optional<io::op_journal> journal;
  /// The operation to recover (exporter_config::recover), until its job begins.
  std::optional<io::op_record> recover;
  std::uint32_t commit_frames = 1;             ///< exporter_config::commit_frames
  std::chrono::milliseconds commit_window{0};  ///< exporter_config::commit_window
  std::map<std::uint64_t, std::string> recorded_ops; ///< see exporter_config
  tile_stitcher_actor stitcher;                ///< merges tiled frames' tiles
};

/// The exporter: see exporter_actor in interfaces.hpp.
exporter_actor::behavior_type
exporter(exporter_actor::stateful_pointer<exporter_state> self, queue_actor queue,
         status_hub_actor hub, exporter_config cfg);

/// Spawns an exporter reporting to `queue` and `hub` (both must be set)
/// through `spawner`: the actor system, or the actor that owns it (the
/// queue, which links it: Os = linked).
template <caf::spawn_options Os = caf::no_spawn_options, class Spawner>
caf::expected<exporter_actor> spawn_exporter(Spawner& spawner, queue_actor queue,
                                             status_hub_actor hub,
                                             exporter_config cfg = {}) {
  if (!queue || !hub)
    return caf::make_error(caf::sec::invalid_argument,
                           "exporter: the queue and the status hub must be set");
  return spawner.template spawn<Os>(exporter, std::move(queue), std::move(hub),
                                    std::move(cfg));
}

} // namespace seg
