// `segflow bench`: segflow's speed on acquisitions against the decode-only
// floor and the reference segmenter, in one run (see bench.hpp).
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <opencv2/core/utility.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/iso_time.hpp"
#include "tools/segflow/args.hpp"
#include "tools/segflow/bench.hpp"
#include "tools/segflow/bench_process.hpp"
#include "tools/segflow/commands.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

std::string first_line(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (key.empty()) {
      return line;
    }
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        return v.substr(v.find_first_not_of(' '));
      }
    }
  }
  return {};
}

std::string load_average() {
  auto line = first_line("/proc/loadavg", "");
  // "0.52 0.58 0.59 1/467 12345": the three averages only.
  std::size_t pos = 0;
  for (int i = 0; i < 3 && pos != std::string::npos; ++i)
    pos = line.find(' ', pos + 1);
  return line.substr(0, pos);
}

// A scratch folder for the children's files, removed at the end.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/segflow-bench.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("cannot create a scratch folder " + pattern);
    path = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

bool write_output(const std::string& file, const std::string& text) {
  try {
    io::write_file_atomic(fs::absolute(file), text);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return false;
  }
}

} // namespace

int run_bench(int argc, char** argv) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::int64_t workers_max = cores;
  std::int64_t repeat = 3;
  std::int64_t stop_trials = 0;
  std::string json_file, markdown_file, checkout, timing_file, profile, config_file;
  std::string python = "/usr/bin/python3";
  std::vector<std::string> sets, paths;
  arg_parser parser(
    "segflow bench [--workers-max N] [--repeat R] [--json FILE] [--markdown FILE] "
    "[--reference-checkout DIR] [--reference-timing FILE] [--stop-trials N] ACQ...",
    "Measures segflow on each acquisition folder ACQ, side by side in one run:\n"
    "for 1..N workers, the pipeline as a child `segflow segment --force` (frames/s,\n"
    "objects/s, per-stage ms/frame, flat time, peak RSS and CPU of the process) and\n"
    "the decode-only floor (the same frames decoded by as many threads in this\n"
    "process, from memory and with the file read); with --reference-checkout and\n"
    "python3-opencv/-skimage/-pandas, the reference segmenter's frames/s on the\n"
    "same frames. Each measurement is repeated R times (medians reported; peak RSS:\n"
    "maximum). Prints Markdown tables; --json writes the same numbers.\n"
    "Outputs of ACQ (objects/, export/, done.txt) are overwritten.");
  parser.option("workers-max", &workers_max, "N", "measure 1..N workers (default: cores)", 1,
                256);
  parser.option("repeat", &repeat, "R", "repeats of every measurement (default 3)", 1, 100);
  parser.option("json", &json_file, "FILE", "write the report as JSON");
  parser.option("markdown", &markdown_file, "FILE", "write the Markdown tables");
  parser.option("reference-checkout", &checkout, "DIR",
                "PlanktoScope repository checkout: run its segmenter on the same frames");
  parser.option("reference-timing", &timing_file, "FILE",
                "recorded reference timing (reference_timing.json) used when the "
                "reference is not run; reported as recorded, not measured");
  parser.option("python", &python, "FILE", "Python for the reference (default /usr/bin/python3)");
  parser.option("stop-trials", &stop_trials, "N",
                "also measure the stop latency N times with --workers-max workers (default 0)", 0, 100);
  parser.option("profile", &profile, "NAME", "passed to segment");
  parser.option("config", &config_file, "FILE", "passed to segment");
  parser.repeated("set", &sets, "KEY=VALUE", "passed to segment");
  parser.positionals(&paths, "ACQ", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;

  std::vector<bench::acquisition_info> acqs;
  for (auto& p : paths) {
    try {
      acqs.push_back(bench::open_acquisition_info(p));
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return exit_usage;
    }
  }
  if (!checkout.empty() && !fs::is_directory(checkout)) {
    std::cerr << "error: --reference-checkout " << checkout << " is not a folder\n";
    return exit_usage;
  }
  if (!timing_file.empty() && !fs::is_regular_file(timing_file)) {
    std::cerr << "error: --reference-timing " << timing_file << " is not a file\n";
    return exit_usage;
  }

  cv::setNumThreads(1);
  bench::run_context ctx;
  ctx.version = SEGFLOW_VERSION;
  ctx.cpu_model = first_line("/proc/cpuinfo", "model name");
  ctx.cores = cores;
  ctx.load_before = load_average();
  ctx.repeat = int(repeat);
  ctx.workers_max = int(workers_max);
  ctx.started_utc = io::utc_iso_seconds_now();
  bench::child_options child;
  child.exe = bench::self_exe();
  if (!profile.empty())
    child.extra.insert(child.extra.end(), {"--profile", profile});
  if (!config_file.empty())
    child.extra.insert(child.extra.end(), {"--config", config_file});
  for (auto& s : sets)
    child.extra.insert(child.extra.end(), {"--set", s});
  ctx.extra = child.extra;

  bool reference_runnable = false;
  std::string reference_missing;
  if (!checkout.empty()) {
    reference_runnable = bench::python_has_reference_deps(python);
    if (!reference_runnable)
      reference_missing = python + " cannot import cv2, skimage and pandas "
                                   "(python3-opencv, python3-skimage, python3-pandas)";
  }

  bool all_ok = true;
  std::vector<bench::acquisition_result> results;
  try {
    scratch_dir scratch;
    child.work_dir = scratch.path;
    for (auto& acq : acqs) {
      bench::acquisition_result res;
      res.acq = acq;
      res.pipeline.resize(std::size_t(workers_max));
      res.decode.resize(std::size_t(workers_max));
      std::cerr << "bench: " << acq.name << " (" << acq.frames.size() << " frames, "
                << acq.width << "x" << acq.height << ")\n";
      for (int r = 0; r < repeat; ++r) {
        for (int w = 1; w <= workers_max; ++w) {
          auto p = bench::run_pipeline(child, acq, w);
          auto d = bench::run_decode_floor(acq, w, 1.0);
          std::cerr << "  repeat " << r + 1 << "/" << repeat << ", " << w << " worker"
                    << (w > 1 ? "s" : "") << ": ";
          if (p.error.empty())
            std::cerr << p.frames / p.job_s << " frames/s, " << p.objects << " objects";
          else
            std::cerr << "FAILED: " << p.error;
          std::cerr << "; decode floor " << d.in_memory_fps << " frames/s\n";
          all_ok = all_ok && p.error.empty();
          res.pipeline[std::size_t(w - 1)].push_back(std::move(p));
          res.decode[std::size_t(w - 1)].push_back(d);
        }
      }
      if (reference_runnable) {
        bench::reference_result merged;
        for (int r = 0; r < repeat; ++r) {
          std::cerr << "  reference run " << r + 1 << "/" << repeat << "\n";
          auto one = bench::run_reference(python, checkout, acq, scratch.path);
          if (one.source != "measured") {
            merged = one;
            break;
          }
          auto samples = merged.samples_fps;
          samples.push_back(one.frames_per_second);
          merged = one;
          merged.samples_fps = samples;
        }
        if (merged.source == "measured")
          merged.frames_per_second = bench::median(merged.samples_fps);
        res.reference = merged;
      }
      if (res.reference.source != "measured") {
        auto why = !res.reference.note.empty() ? res.reference.note : reference_missing;
        if (!timing_file.empty()) {
          res.reference = bench::recorded_reference(timing_file, acq);
          if (!why.empty())
            res.reference.note += "; the reference was not run: " + why;
        } else {
          res.reference.source = "none";
          res.reference.note =
            !why.empty() ? why : "no --reference-checkout or --reference-timing given";
        }
      }
      if (res.reference.source != "none")
        std::cerr << "  reference: " << res.reference.frames_per_second << " frames/s ("
                  << res.reference.source << ")\n";
      if (stop_trials > 0) {
        std::vector<double> walls;
        for (auto& p : res.pipeline.back())
          walls.push_back(p.process_wall_s);
        res.stop_workers = int(workers_max);
        res.stops = bench::run_stop_trials(child, acq, int(workers_max), int(stop_trials),
                                           0.9 * bench::median(walls));
        std::cerr << "  stop trials: " << res.stops.size() << "\n";
      }
      results.push_back(std::move(res));
    }
  } catch (const std::exception& e) {
    std::cerr << "error: bench failed: " << e.what() << "\n";
    return exit_failed;
  }

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  ctx.bench_peak_rss_mb = ru.ru_maxrss / 1024.0;
  ctx.load_after = load_average();
  auto report = bench::report_json(ctx, results);
  auto markdown = bench::report_markdown(report);
  std::cout << markdown;
  if (!json_file.empty() && !write_output(json_file, report.dump(2) + "\n"))
    return exit_failed;
  if (!markdown_file.empty() && !write_output(markdown_file, markdown))
    return exit_failed;
  return all_ok ? exit_ok : exit_failed;
}

} // namespace seg::cli
