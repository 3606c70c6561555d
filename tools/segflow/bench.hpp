#pragma once

// `segflow bench`: measurements and their report. The pipeline runs as a
// child process (`segflow segment`), so its peak RSS and CPU time come from
// wait4(); the decode-only floor runs in this process.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seg::cli::bench {

/// The acquisition being measured.
struct acquisition_info {
  std::filesystem::path dir;          ///< acquisition folder (absolute)
  std::filesystem::path data_root;    ///< folder holding img/
  std::filesystem::path rel;          ///< dir relative to data_root/img
  std::string name;                   ///< dir's last component
  std::vector<std::filesystem::path> frames; ///< frame files, pipeline order
  int width = 0;                      ///< of the first frame, px (JPEG header)
  int height = 0;                     ///< of the first frame, px
  double mean_frame_bytes = 0;        ///< mean JPEG size, bytes
};

/// Lists the acquisition as the pipeline does.
/// @throws std::exception naming the folder if it is not an acquisition.
acquisition_info open_acquisition_info(const std::filesystem::path& dir);

/// What the child `segflow segment` run is asked to do besides the workers.
struct child_options {
  std::string exe;                    ///< the segflow executable
  std::filesystem::path work_dir;     ///< scratch folder for the child's files
  std::vector<std::string> extra;     ///< passed through: --profile, --config, --set
};

/// One pipeline run in a child process (`segment -q --force --status-json
/// --summary-json F --workers w ACQ`).
struct pipeline_sample {
  int workers = 0;
  int exit_code = 0;                  ///< the child's exit code (0 = all done)
  std::uint32_t frames = 0;           ///< segmented in this run
  std::uint32_t frames_failed = 0;
  std::uint32_t objects = 0;
  double job_s = 0;                   ///< job time from the summary, s
  double process_wall_s = 0;          ///< fork to exit, s
  double cpu_s = 0;                   ///< child user + system time, s
  double system_s = 0;                ///< child system time alone, s
  long minor_faults = 0;              ///< child minor page faults
  double peak_rss_mb = 0;             ///< child ru_maxrss, MiB
  double peak_footprint_mb = 0;       ///< sampled RSS + shm segments, MiB
  double peak_shm_mb = 0;             ///< sampled shm segments alone, MiB
  double flat_ms = -1;                ///< flat_ready event; -1 if none
  std::map<std::string, double> stages_ms; ///< stage_totals, ms summed over frames
  std::string error;                  ///< why the run is unusable (empty if fine)
};

/// Runs the pipeline once on `acq` with `workers` workers.
pipeline_sample run_pipeline(const child_options& opts, const acquisition_info& acq,
                             int workers);

/// One measurement of the decode-only floor.
struct decode_sample {
  int threads = 0;
  double in_memory_fps = 0;           ///< decode from bytes in memory, frames/s
  double with_read_fps = 0;           ///< file read + decode, frames/s
  double in_memory_cpu_percent = 0;   ///< this process's CPU over the wall time
  int passes = 0;                     ///< times the frame list was decoded
};

/// Decodes every frame of `acq` with `threads` threads and the pipeline's
/// decoder (kernels::decode_frame), first from bytes already in memory, then
/// including the file read, each for at least `min_seconds` (whole passes,
/// after one warm-up pass). @throws std::runtime_error if a decode fails.
decode_sample run_decode_floor(const acquisition_info& acq, int threads,
                               double min_seconds);

/// Stop latency: SIGINT sent to a `segment` child at a random moment, time
/// until the process has exited (an upper bound of the stop latency).
struct stop_sample {
  double delay_s = 0;                 ///< SIGINT sent this long after the start
  double latency_ms = 0;              ///< SIGINT to exit
  int exit_code = 0;                  ///< 3 = interrupted
};

/// Runs `trials` stop trials with `workers` workers; the SIGINT moment is
/// uniform in [0.2 s, max_delay_s]. Trials in which the run ended before the
/// signal are retried with a shorter window (at most 2 × trials runs).
std::vector<stop_sample> run_stop_trials(const child_options& opts,
                                         const acquisition_info& acq, int workers,
                                         int trials, double max_delay_s);

/// The reference segmenter's speed on an acquisition.
struct reference_result {
  std::string source;                 ///< "measured", "recorded" or "none"
  std::string note;                   ///< where the numbers come from / why none
  double frames_per_second = 0;       ///< frames / wall time of segment_list
  double wall_s = 0;
  double flat_s = 0;
  std::uint32_t frames = 0;
  std::uint32_t objects = 0;
  double peak_rss_mb = 0;             ///< measured only
  double cpu_s = 0;                   ///< measured only
  std::vector<double> samples_fps;    ///< each measured run
};

/// True if `python` can import cv2, skimage and pandas.
bool python_has_reference_deps(const std::string& python);

/// Runs the reference segmenter from `checkout` (a PlanktoScope repository)
/// on `acq` once: SegmenterProcess.segment_list([acq], force=True,
/// ecotaxa_export=True) with keep=0, process_id=1, MQTT replaced by an
/// in-process recorder, on a scratch data root whose frames are symlinks to
/// acq's (so the reference writes nothing beside the real acquisition).
/// Fills source = "measured" or, on failure, source = "none" and note.
reference_result run_reference(const std::string& python,
                               const std::filesystem::path& checkout,
                               const acquisition_info& acq,
                               const std::filesystem::path& work_dir);

/// Reads a reference timing file (reference/reference_timing.json of the
/// composed sets) and uses it iff its per-image names are acq's frames;
/// source = "recorded" then, else "none" with the reason in note.
reference_result recorded_reference(const std::filesystem::path& timing_file,
                                    const acquisition_info& acq);

/// Median of `xs` (mean of the middle two for even sizes); 0 if empty.
double median(std::vector<double> xs);

/// The collected measurements of one acquisition.
struct acquisition_result {
  acquisition_info acq;
  std::vector<std::vector<pipeline_sample>> pipeline; ///< [workers-1][repeat]
  std::vector<std::vector<decode_sample>> decode;     ///< [workers-1][repeat]
  reference_result reference;
  std::vector<stop_sample> stops;
  int stop_workers = 0;
};

/// Context of the whole bench run, for the report.
struct run_context {
  std::string version;
  std::string cpu_model;
  unsigned cores = 0;
  std::string load_before;            ///< /proc/loadavg at the start
  std::string load_after;             ///< and at the end
  int repeat = 0;
  int workers_max = 0;
  std::vector<std::string> extra;     ///< options passed to segment
  double bench_peak_rss_mb = 0;       ///< this process (decode floor)
  std::string started_utc;
};

/// The report as JSON: context, and per acquisition and worker count the
/// medians (peak RSS: the maximum) of every measurement with the samples.
nlohmann::ordered_json report_json(const run_context& ctx,
                                   const std::vector<acquisition_result>& results);

/// The same numbers as Markdown tables.
std::string report_markdown(const nlohmann::ordered_json& report);

} // namespace seg::cli::bench
