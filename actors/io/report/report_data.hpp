#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "actors/io/report/run_record.hpp"

// Everything a report shows about one acquisition, read from what segflow
// left on disk: metadata.json, the per-frame records, the error artifacts,
// the run record and the flat thumbnail. No HTML here.
namespace seg::io::report {

/// One object, from its frame's record.
struct report_object {
  std::string id;          ///< object_id: the crop's name without ".jpg"
  std::string crop;        ///< crop file name, beside the report
  std::uint32_t frame = 0; ///< frame index in the acquisition
  double esd = 0;          ///< equivalent spherical diameter, in the report's unit
};

/// One frame of the acquisition.
struct report_frame {
  enum class outcome : std::uint8_t { done, failed, not_done };
  std::string name;
  outcome state = outcome::not_done;
  long objects = 0;          ///< objects kept (done frames)
  std::string reason;        ///< why it failed (failed frames)
  bool new_flat = false;     ///< a recalculated flat starts at this frame
};

/// What the run that made the outputs is assumed to be when it left no
/// run record (outputs of an older segflow): from the report command's
/// settings.
struct run_assumptions {
  std::string profile = "default";
  bool micrometres = true;        ///< size_units = "um"
  bool flat_recalculate = false;
};

/// One acquisition as its report shows it.
struct acquisition_report {
  std::filesystem::path acquisition_dir;
  std::filesystem::path data_root;
  std::filesystem::path rel;          ///< below img/
  std::filesystem::path objects_dir;  ///< where report.html goes
  std::string sample_project, sample_id, acq_id, instrument, date;
  std::string process_pixel;          ///< as metadata.json has it; empty if absent
  std::optional<double> imaged_ml;    ///< acq_imaged_volume (mL), if a number > 0
  std::optional<run_record> run;      ///< the latest run's record, if any
  std::string profile;
  double um_per_px = 0;               ///< > 0: sizes in µm, else in pixels
  /// done, failed, interrupted (the run's state), else partial (some frames
  /// committed), done (done.txt) or not segmented.
  std::string state;
  std::vector<report_frame> frames;   ///< every frame, in acquisition order
  std::vector<report_object> objects; ///< in frame order, then in-frame order
  long frames_done = 0;
  long frames_failed = 0;
  std::vector<std::uint8_t> flat_jpeg; ///< flat thumbnail; empty if none was saved
  std::string tsv_name;               ///< ecotaxa_<acq_id>.tsv if it exists beside
  std::vector<std::string> problems;  ///< unreadable records or artifacts, named

  /// "µm" or "px".
  std::string unit() const;
};

/// Reads the acquisition in `acq_dir` (an acquisition folder under img/).
/// Records or error artifacts that cannot be read are listed in problems,
/// not thrown.
/// @throws io_error when the folder or its metadata.json cannot be read.
acquisition_report load_acquisition_report(const std::filesystem::path& acq_dir,
                                           const run_assumptions& assumed);

} // namespace seg::io::report
