#pragma once

#include <cstdint>
#include <stdexcept>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace seg::config {

/// Which behaviour to follow where the reference segmenter has known quirks.
enum class profile : std::uint8_t {
  standard,     ///< "default": µm units, unique object ids, one flat per job
  planktoscope, ///< reproduces the reference segmenter's numbers exactly
};

/// Units of the size filter and of the exported lengths and areas.
enum class units : std::uint8_t { pixels, micrometres };

/// How object ids (crop names) are formed.
enum class object_ids : std::uint8_t {
  per_frame, ///< "<frame stem>_<i>", as the reference (not unique across acquisitions)
  unique,    ///< "<sample_id>_<acq_id>_<frame stem>_<i>"
};

/// Segmentation parameters (SPEC-planktoscope §2–§4).
struct segmentation_settings {
  double min_esd = 20;              ///< minimum equivalent diameter (px or µm, see units)
  units size_units = units::micrometres;
  bool require_process_pixel = false; ///< um units without a valid process_pixel fail the job
  bool remove_previous_mask = false;
  int flat_frames = 10;             ///< frames asked for the flat (even counts take one less)
  bool flat_recalculate = false;    ///< the reference's dense-frame flat recalculation
  int crop_margin = 10;             ///< px added around each object's bbox
  int crop_jpeg_quality = 75;       ///< JPEG quality of crops (PIL's default)
};

/// How the work is spread.
struct pipeline_settings {
  int workers = 0;                  ///< segment workers; 0 = cores - 1, at least 1
  int reads_in_flight = 2;          ///< frames read ahead per worker
  double frame_timeout_s = 120;     ///< a frame taking longer fails
  std::int64_t max_frame_pixels = 100'000'000; ///< larger frames are refused unread
  int opencv_threads = 1;           ///< OpenCV threads per worker
  bool follow = false;              ///< follow an acquisition still being written
  double follow_idle_s = 300;       ///< a followed acquisition with no new frame ends
  bool decode_once = true;          ///< segment the flat's frames from its stack
  int decode_band_rows = 16;        ///< correct while decoding, rows a band; 0 = off
};

/// Tiled frames (DESIGN "Tiled frames"): frames too big to segment whole
/// are decoded once into shared memory and segmented tile by tile.
struct tiling_settings {
  std::int64_t max_frame_pixels = 50'000'000; ///< larger frames are tiled; 0 = every frame
  int tile_width = 4096;            ///< core width of a tile, px
  int tile_height = 4096;           ///< core height of a tile, px
  int frames_in_flight = 2;         ///< tiled frames decoded and not yet stitched
  double frames_memory_mb = 1024;   ///< their shared memory at most; 0 = no bound
};

/// How many tiled frames of `frame_bytes` each may be between their read and
/// their stitch: frames_in_flight, fewer when they would take more than
/// frames_memory_mb of shared memory, and never none (one frame is always
/// read, whatever its size).
int tiled_frames_in_flight(const tiling_settings& t, std::int64_t frame_bytes);

/// What is exported.
struct export_settings {
  bool ecotaxa = true;              ///< write the EcoTaxa zip
  std::string process_id;           ///< process_id column; empty = the run's uuid
  object_ids ids = object_ids::unique;
  bool report = true;               ///< write the HTML reports when a job ends
  int commit_frames = 8;            ///< group commit: frames per file-system flush
  double commit_window_ms = 50;     ///< group commit: wait for more frames this long
};

/// The operations journal (<state>/ops): what `segment` and `serve` prune
/// at start. A stuck operation is never pruned.
struct journal_settings {
  double keep_days = 7;             ///< operations over for longer go
  std::int64_t keep_max = 1000;     ///< at most this many over are kept
};

/// Logging.
struct log_settings {
  std::string level = "info";       ///< trace, debug, info, warn, error, off
  bool json = false;                ///< JSON lines instead of text on stderr
};

/// Every setting of a run. Defaults are those of config/segflow.toml.
struct settings {
  profile run_profile = profile::standard;
  segmentation_settings segmentation;
  pipeline_settings pipeline;
  tiling_settings tiling;
  export_settings exports;
  journal_settings journal;
  log_settings log;
};

/// A configuration problem; what() names the key and where it came from.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Where settings come from, in increasing precedence: the built-in defaults
/// of the chosen profile, then a file, then the environment
/// (SEGFLOW_<SECTION>_<KEY>, e.g. SEGFLOW_PIPELINE_WORKERS), then the command
/// line (`--set section.key=value` and dedicated flags).
struct sources {
  std::string file;                                  ///< TOML file; empty = none
  std::vector<std::pair<std::string, std::string>> env;       ///< (name, value)
  std::vector<std::pair<std::string, std::string>> overrides; ///< (key, value)
};

/// Loads, validates and merges settings. Throws config_error naming the key
/// and the source (file path, environment variable or command line).
settings load(const sources& src);

/// The SEGFLOW_* variables that are not settings (SEGFLOW_<SECTION>_<KEY>):
/// load() leaves them alone instead of refusing them as unknown.
const std::set<std::string>& other_segflow_variables();

/// The SEGFLOW_* variables of this process's environment.
std::vector<std::pair<std::string, std::string>> environment();

/// Documentation of one key, for `segflow config --keys` and tests.
struct key_doc {
  std::string key;      ///< "section.name" or "profile"
  std::string type;     ///< bool, int, float or one of the listed choices
  std::string unit;
  std::string range;
  std::string default_standard;
  std::string default_planktoscope;
  std::string meaning;
};

/// Every key, in the order of config/segflow.toml.
const std::vector<key_doc>& keys();

/// The settings rendered as TOML (the effective configuration).
std::string to_toml(const settings& s);

/// Text names of the enums.
std::string to_string(profile p);
std::string to_string(units u);
std::string to_string(object_ids ids);

/// Number of segment workers to run for `s` on a machine with `cores` cores.
int effective_workers(const settings& s, unsigned cores);

} // namespace seg::config
