#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/segment_params.hpp"

namespace seg {

/// A request to segment one acquisition folder.
struct job_spec {
  std::uint64_t id = 0;
  std::string path;                     ///< acquisition folder
  bool force = false;                   ///< remove old outputs and start over
  std::vector<std::string> overrides;   ///< per-job settings, "section.key=value"
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_spec& x) {
  return f(x.id, x.path, x.force, x.overrides);
}

/// Everything the reader, workers and exporter need to know about a job,
/// resolved once by the reader from the folder, its metadata and settings.
struct job_plan {
  std::uint64_t id = 0;
  std::string acquisition;              ///< acquisition folder
  std::string data_root;                ///< folder holding img/
  std::string rel;                      ///< acquisition path relative to img/
  std::vector<std::string> frames;      ///< frame file names, sorted
  std::vector<std::uint32_t> flat_frames; ///< indices of the initial flat's frames
  std::string metadata_json;            ///< filtered metadata, key order kept
  std::string sample_project;
  std::string sample_id;
  std::string acq_id;
  std::string profile;                  ///< "default" or "planktoscope"
  std::string object_ids;               ///< "unique" or "per_frame"
  std::string process_id;               ///< setting; empty = the run's uuid
  bool ecotaxa = true;
  bool force = false;
  segment_params params;
  std::vector<std::string> warnings;    ///< e.g. process_pixel missing
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_plan& x) {
  return f(x.id, x.acquisition, x.data_root, x.rel, x.frames, x.flat_frames,
           x.metadata_json, x.sample_project, x.sample_id, x.acq_id, x.profile,
           x.object_ids, x.process_id, x.ecotaxa, x.force, x.params, x.warnings);
}

/// States a job goes through.
enum class job_state : std::uint8_t {
  pending = 0,
  running = 1,
  done = 2,
  failed = 3,
  interrupted = 4,
  /// Every frame was tried, some failed: the good frames' objects are
  /// committed and exported, but there is no done.txt (a rerun retries the
  /// failed frames only), and segment exits 1.
  partial = 5,
};

/// What happened, for the status hub's subscribers.
enum class event_kind : std::uint8_t {
  job_started = 0,
  flat_ready = 1,
  frame_done = 2,
  frame_failed = 3,
  job_finished = 4, ///< see state: done, partial, failed or interrupted
};

/// One status event.
struct job_event {
  event_kind kind = event_kind::job_started;
  std::uint64_t job_id = 0;
  std::string path;                     ///< acquisition folder
  job_state state = job_state::pending;
  std::uint32_t frame_index = 0;
  std::string frame_name;
  std::uint32_t frames_total = 0;
  std::uint32_t frames_done = 0;        ///< committed so far, resumed ones included
  std::uint32_t objects = 0;            ///< in this frame (frame events) or job
  double ms = 0;                        ///< frame time or flat time
  double elapsed_s = 0;                 ///< since the job started
  std::string message;                  ///< error text
  /// The run's operation id in the journal ("op-<time>-<hex>"); empty
  /// before the exporter began the run, or without a journal.
  std::string op_id;
  /// Frame events: the node (host:pid) whose worker segmented the frame;
  /// empty for a frame serve failed itself (its worker lost twice, ...).
  std::string node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_event& x) {
  return f(x.kind, x.job_id, x.path, x.state, x.frame_index, x.frame_name,
           x.frames_total, x.frames_done, x.objects, x.ms, x.elapsed_s, x.message,
           x.op_id, x.node);
}

/// The frames of a run one node segmented (done or failed).
struct node_frames {
  std::string node; ///< host:pid
  std::uint32_t frames = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_frames& x) {
  return f(x.node, x.frames);
}

/// Where the time of a job went, summed over frames (milliseconds).
struct stage_totals {
  double read_ms = 0;
  double decode_ms = 0;
  double correct_ms = 0;
  double mask_ms = 0;
  double label_features_ms = 0;
  double crops_ms = 0;
  double commit_ms = 0;
  double export_ms = 0;
  double flat_ms = 0;
  double worker_wait_ms = 0;   ///< workers waiting for a task
  double exporter_wait_ms = 0; ///< exporter waiting for results
  // -- tiled frames (DESIGN "Tiled frames") --
  double tiles = 0;              ///< tiles segmented
  double tile_pixels = 0;        ///< pixels of their extents (cores and halos)
  double tiled_frame_pixels = 0; ///< pixels of the tiled frames themselves
  double tile_read_ms = 0;       ///< decoding and correcting them into shared memory
  double tile_segment_ms = 0;    ///< segmenting their tiles (mask to crops)
  double stitch_ms = 0;          ///< the tile stitcher's own work
  double stitch_wait_ms = 0;     ///< the stitcher waiting for tiles, a frame open
  double held_back_ms = 0;       ///< workers waiting while the reader held tiled
                                 ///< frames back for the stitcher (backpressure)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage_totals& x) {
  return f(x.read_ms, x.decode_ms, x.correct_ms, x.mask_ms, x.label_features_ms,
           x.crops_ms, x.commit_ms, x.export_ms, x.flat_ms, x.worker_wait_ms,
           x.exporter_wait_ms, x.tiles, x.tile_pixels, x.tiled_frame_pixels, x.tile_read_ms,
           x.tile_segment_ms, x.stitch_ms,
           x.stitch_wait_ms, x.held_back_ms);
}

/// The outcome of one job.
struct job_summary {
  std::uint64_t id = 0;
  std::string path;
  job_state state = job_state::pending;
  std::uint32_t frames_total = 0;
  std::uint32_t frames_done = 0;        ///< committed, resumed ones included
  std::uint32_t frames_resumed = 0;     ///< committed by an earlier run
  std::uint32_t frames_failed = 0;
  std::uint32_t objects = 0;
  double seconds = 0;
  std::string error;                    ///< why the job failed or is partial
  std::vector<std::string> failures;    ///< one line per failed frame
  std::string zip;                      ///< EcoTaxa archive written
  std::string objects_dir;              ///< where the crops are
  stage_totals stages;
  std::string op_id;                    ///< the run's operation id (see job_event)
  /// The frames of this run by the node that segmented them, by node name
  /// (resumed frames and frames serve failed itself are in none).
  std::vector<node_frames> nodes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_summary& x) {
  return f(x.id, x.path, x.state, x.frames_total, x.frames_done, x.frames_resumed,
           x.frames_failed, x.objects, x.seconds, x.error, x.failures, x.zip,
           x.objects_dir, x.stages, x.op_id, x.nodes);
}

/// Text name of a job state.
inline const char* to_string(job_state s) {
  switch (s) {
    case job_state::pending: return "pending";
    case job_state::running: return "running";
    case job_state::done: return "done";
    case job_state::failed: return "failed";
    case job_state::interrupted: return "interrupted";
    case job_state::partial: return "partial";
  }
  return "unknown";
}

/// Text name of an event kind.
inline const char* to_string(event_kind k) {
  switch (k) {
    case event_kind::job_started: return "job_started";
    case event_kind::flat_ready: return "flat_ready";
    case event_kind::frame_done: return "frame_done";
    case event_kind::frame_failed: return "frame_failed";
    case event_kind::job_finished: return "job_finished";
  }
  return "unknown";
}

} // namespace seg
