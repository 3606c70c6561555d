#pragma once

// A job's plan: what the folder, its metadata.json and the job's settings
// say about it, resolved once when the job is opened. No CAF here.

#include "config/settings.hpp"
#include "messages/job.hpp"

namespace seg {

/// A job as the reader runs it, from one load of the job's settings: the
/// plan the other actors get, and the settings only the reader uses.
struct job_setup {
  job_plan plan;
  /// segmentation.flat_recalculate (SPEC-planktoscope §2.1). Kept out of
  /// job_plan: the plan is traced, and a new field would change the wire
  /// form of every recorded trace (the golden traces among them).
  bool flat_recalculate = false;
  /// pipeline.follow: plan.frames are those integrity.check lists so far
  /// (maybe none); more come until the acquisition is complete.
  bool follow = false;
  double follow_idle_s = 300; ///< pipeline.follow_idle_s
  int flat_frames = 10;       ///< segmentation.flat_frames, for a flat started later
  config::tiling_settings tiling; ///< which frames are tiled, and how
};

/// A job's settings: `base` with the job's overrides ("key=value") on top.
/// Throws config::config_error, or std::runtime_error for an override that
/// is not key=value.
config::settings job_settings(const job_spec& spec, const config::sources& base);

/// Resolves a job from its folder, metadata and settings (`base` with the
/// job's overrides on top, loaded once). Throws std::runtime_error naming
/// the file and the problem: the folder (missing, not under img/, no
/// frames), metadata.json (missing, invalid JSON, missing keys, ids unusable
/// in file names, columns EcoTaxa would refuse when export.ecotaxa is on;
/// a frame's own name is not checked here: see io::frame_name_problem),
/// process_pixel when segmentation.require_process_pixel is set, or the
/// settings (a job override that is not key=value, an unknown key, a bad
/// value).
job_setup resolve_job(const job_spec& spec, const config::sources& base);

} // namespace seg
