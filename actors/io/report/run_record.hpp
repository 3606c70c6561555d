#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The record of an acquisition's latest run, <objects>/.segflow/run.json,
// written when a job ends so that a report made later (`segflow report`)
// still knows the run's settings, outcome and where its time went:
//   {"format":"segflow-run","version":1,"segflow_version":...,"state":...,
//    "finished":UTC,"seconds":...,"profile":...,"settings_digest":...,
//    "units":"um"|"px","um_per_px":...,"flat_recalculate":...,
//    "frames_total":...,"frames_done":...,"frames_resumed":...,
//    "frames_failed":...,"objects":...,"error":...,"failures":[...],
//    "stages_ms":{"read":...,...}}
namespace seg::io::report {

/// What a report needs to know about the run that made the outputs.
struct run_record {
  std::string segflow_version;
  std::string state;             ///< done, partial, failed or interrupted
  std::string finished;          ///< UTC, ISO 8601
  double seconds = 0;            ///< the job's wall time
  std::string profile;           ///< "default" or "planktoscope"
  std::string settings_digest;   ///< settings_digest() of the job's settings
  double um_per_px = 0;          ///< > 0: sizes were in µm; 0: in pixels
  bool flat_recalculate = false; ///< segmentation.flat_recalculate
  long frames_total = 0;
  long frames_done = 0;          ///< committed, resumed ones included
  long frames_resumed = 0;
  long frames_failed = 0;
  long objects = 0;
  std::string error;             ///< why the job failed
  std::vector<std::string> failures;
  /// Stage times summed over frames, in the order the summary prints them.
  std::vector<std::pair<std::string, double>> stages_ms;
};

/// The state a report shows for the run: its state, except that a run
/// recorded "done" with failed frames (before the partial state existed) is
/// "partial".
std::string run_state_text(const run_record& record);

/// <objects>/.segflow/run.json.
std::filesystem::path run_record_file(const std::filesystem::path& objects_dir);

/// Writes `record` to run_record_file(objects_dir) atomically; its folder
/// must exist (the caller makes it with make_owned_dirs).
/// @throws io_error naming the file.
void write_run_record(const std::filesystem::path& objects_dir, const run_record& record);

/// Reads run_record_file(objects_dir); nullopt if there is none.
/// @throws io_error naming the file when it exists but is not a run record.
std::optional<run_record> read_run_record(const std::filesystem::path& objects_dir);

/// A short digest of settings text (FNV-1a 64, 16 hex digits): equal
/// digests, equal settings.
std::string settings_digest(const std::string& settings_toml);

} // namespace seg::io::report
