// `segflow segment`: one job per acquisition folder, in one process, then
// exit. SIGINT/SIGTERM stop the running job cooperatively (exit code 3);
// running the same command again resumes from the committed frames.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <unistd.h>
#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/acquisition.hpp"
#include "actors/io/frame_file.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/queue_store.hpp"
#include "actors/io/trace_file.hpp"
#include "actors/lock_manager.hpp"
#include "actors/queue.hpp"
#include "actors/status_hub.hpp"
#include "actors/status_sinks.hpp"
#include "actors/trace.hpp"
#include "actors/type_ids.hpp"
#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/frame_bands.hpp"
#include "kernels/tiles.hpp"
#include "shm/image_segment.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/preflight.hpp"
#include "tools/segflow/ops_recover.hpp"
#include "tools/segflow/segment_run.hpp"
#include "tools/segflow/stage_totals_format.hpp"
#include "tools/segflow/summary_json.hpp"

namespace seg::cli {

namespace {

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

void print_summary(std::ostream& os, const std::vector<job_summary>& jobs,
                   const std::vector<std::string>& skipped) {
  os << "\nsummary\n";
  for (auto& s : skipped)
    os << "skipped: " << s << "\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-44s %7s %8s %7s %8s %8s  %s\n", "acquisition",
                "frames", "objects", "failed", "seconds", "frames/s", "state");
  os << line;
  for (auto& j : jobs) {
    auto path = j.path.size() > 44 ? "..." + j.path.substr(j.path.size() - 41) : j.path;
    double fps = j.seconds > 0 ? (j.frames_done - j.frames_resumed) / j.seconds : 0;
    std::snprintf(line, sizeof line, "%-44s %3u/%-3u %8u %7u %8s %8s  %s\n", path.c_str(),
                  j.frames_done, j.frames_total, j.objects, j.frames_failed,
                  fixed(j.seconds, 2).c_str(), fixed(fps, 2).c_str(),
                  to_string(job_state(j.state)));
    os << line;
    if (!j.error.empty())
      os << "    " << j.error << "\n";
    for (auto& f : j.failures)
      os << "    failed frame: " << f << "\n";
    if (!j.objects_dir.empty()
        && (job_state(j.state) == job_state::done || job_state(j.state) == job_state::partial))
      os << "    crops: " << j.objects_dir << "\n";
    if (!j.zip.empty())
      os << "    ecotaxa: " << j.zip << "\n";
  }
  os << "\nstages (ms, summed over frames)\n";
  for (auto& j : jobs)
    os << "  job " << j.id << ": " << stages_text(j.stages) << "\n";
}

// The frame size in a frame's header, read from its first 256 KiB (a TIFF's
// directory may lie anywhere: all of it); nullopt for what the run will
// refuse anyway (unreadable, no frame format, symlinks, more than
// pipeline.max_frame_pixels).
std::optional<cv::Size> header_size(const std::filesystem::path& file,
                                    std::int64_t max_pixels) {
  std::error_code ec;
  if (std::filesystem::is_symlink(file, ec) || !std::filesystem::is_regular_file(file, ec))
    return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::vector<std::uint8_t> head(256 * 1024);
  in.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
  head.resize(std::size_t(in.gcount()));
  if (kernels::looks_like_tiff(head.data(), head.size()) && head.size() == 256 * 1024) {
    try {
      head = io::read_frame_file(file.parent_path(), file.filename().string(),
                                 io::max_frame_file_bytes(max_pixels));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  auto size = kernels::frame_size(head.data(), head.size());
  if (!size || !io::frame_size_problem(file.string(), *size, max_pixels).empty())
    return std::nullopt;
  return size;
}

// Measures what the preflight needs: frame size (the largest header among
// the first 10 frames the run will not refuse), frame count and bytes, and
// the output device of each acquisition that will run. Folders that cannot
// be opened are left to their job to report.
std::vector<preflight_job> measure_jobs(const segment_request& req) {
  std::vector<preflight_job> jobs;
  for (auto& folder : req.folders) {
    io::acquisition acq;
    try {
      acq = io::open_acquisition(folder);
    } catch (const std::exception&) {
      continue;
    }
    if (!req.force && io::has_done_marker(io::output_layout(acq)))
      continue;
    preflight_job j;
    j.name = acq.dir.string();
    j.frames = acq.frames.size();
    j.flat_frames = kernels::initial_flat_indices(
      acq.frames.size(), std::size_t(req.settings.segmentation.flat_frames)).size();
    for (std::size_t i = 0; i < acq.frames.size(); ++i) {
      std::error_code ec;
      auto bytes = std::filesystem::file_size(acq.dir / acq.frames[i], ec);
      if (!ec)
        j.frame_bytes += bytes;
      if (i >= 10)
        continue;
      if (auto size = header_size(acq.dir / acq.frames[i],
                                  req.settings.pipeline.max_frame_pixels);
          size && kernels::pixels(*size) > j.width * j.height) {
        j.width = size->width;
        j.height = size->height;
      }
    }
    auto& tiling = req.settings.tiling;
    if (j.width > 0
        && (tiling.max_frame_pixels == 0 || j.width * j.height > tiling.max_frame_pixels)) {
      kernels::segment_params kp;
      kp.crop_margin = req.settings.segmentation.crop_margin;
      auto layout = kernels::make_tile_layout({int(j.width), int(j.height)},
                                              {tiling.tile_width, tiling.tile_height}, kp);
      auto extent = layout.extent(0);
      j.tiled = true;
      j.tile_width = extent.width;
      j.tile_height = extent.height;
      j.frames_in_flight =
        std::uint64_t(config::tiled_frames_in_flight(tiling, j.width * j.height * 3));
    }
    j.space = output_space_of(io::output_layout(acq).objects_dir());
    jobs.push_back(std::move(j));
  }
  return jobs;
}

// True if the run may start: the preflight passed or was overridden.
bool preflight(const segment_request& req, std::uint32_t workers) {
  preflight_settings ps;
  ps.workers = workers;
  auto report = check_preflight(measure_jobs(req), ps, memory_available(), shm_available());
  for (auto& e : report.estimates)
    spdlog::info("preflight {}", e);
  if (report.problems.empty())
    return true;
  for (auto& p : report.problems) {
    if (req.force_run)
      spdlog::warn("preflight_overridden problem=\"{}\"", p);
    else
      std::cerr << "error: preflight: " << p << "\n";
  }
  if (req.force_run)
    return true;
  std::cerr << "nothing was segmented (--force-run starts anyway)\n";
  return false;
}

// Why folder `dir` cannot be an acquisition wherever it is: it is not below
// an img/ folder (the outputs go beside img/). Empty if it can.
std::string layout_problem(const std::filesystem::path& dir) {
  for (auto& part : dir.parent_path())
    if (part == "img")
      return {};
  return dir.string() + ": not under an img/ folder (expected <data root>/img/<date>/"
                        "<sample>/<acquisition>)";
}

} // namespace

int exit_code_of(const std::vector<job_summary>& jobs) {
  bool interrupted = false;
  bool failed = false;
  for (auto& j : jobs) {
    auto s = job_state(j.state);
    if (s == job_state::interrupted)
      interrupted = true;
    if (s == job_state::failed || s == job_state::partial || j.frames_failed > 0)
      failed = true;
  }
  if (interrupted)
    return exit_interrupted;
  return failed ? exit_failed : exit_ok;
}

namespace {

// Replays a recorded stop: sends stop-all when the exporter has reported
// the recorded number of frames.
status_sink_actor::behavior_type stop_injector(status_sink_actor::pointer,
                                               queue_actor q,
                                               std::vector<std::uint32_t> points) {
  auto seen = std::make_shared<std::uint32_t>(0);
  auto next = std::make_shared<std::size_t>(0);
  return {
    [=](const job_event& ev) {
      auto kind = event_kind(ev.kind);
      if (kind != event_kind::frame_done && kind != event_kind::frame_failed)
        return;
      ++*seen;
      if (*next < points.size() && *seen >= points[*next]) {
        ++*next;
        caf::anon_send(q, atom::stop_all::value);
      }
    },
  };
}

io::trace_header make_trace_header(const segment_request& req, std::uint32_t workers) {
  auto effective = req.settings;
  effective.pipeline.workers = int(workers);
  auto h = new_trace_header(effective, req.command, req.trace_embed);
  h.inputs = req.folders;
  if (!req.folders.empty()) {
    try {
      h.data_root = io::open_acquisition(req.folders.front()).data_root.string();
    } catch (const std::exception&) {
      // the job will fail with the reason; paths stay absolute in the trace
    }
  }
  return h;
}

} // namespace

int segment_folders(const segment_request& req, std::vector<job_summary>* out) {
  const auto& settings = req.settings;
  // Signals are taken by one thread (sigtimedwait).
  auto signals = take_stop_signals();

  // A file-size limit (ulimit -f) must fail the write, not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);

  if (auto n = shm::sweep_stale_segments(); n > 0)
    spdlog::info("shm_swept segments={}", n);
  cv::setNumThreads(settings.pipeline.opencv_threads);
  auto workers = std::uint32_t(
    config::effective_workers(settings, std::max(1u, std::thread::hardware_concurrency())));
  if (!preflight(req, workers))
    return exit_usage;

  caf::actor_system_config cfg;
  configure_actor_system(cfg, false);
  caf::actor_system sys{cfg};

  // Trace from the first message on, so two runs record the same wiring.
  if (!req.trace_file.empty()) {
    try {
      trace::start(req.trace_file, make_trace_header(req, workers));
    } catch (const std::exception& e) {
      std::cerr << "error: --trace: " << e.what() << "\n";
      return exit_usage;
    }
  }
  auto hub = spawn_status_hub(sys);
  std::vector<caf::actor> sinks;
  if (req.status_json)
    sinks.push_back(caf::actor_cast<caf::actor>(spawn_json_sink(sys, hub)));
  else
    sinks.push_back(caf::actor_cast<caf::actor>(spawn_progress_sink(sys, hub)));
  if (req.reference_status)
    sinks.push_back(caf::actor_cast<caf::actor>(spawn_reference_sink(sys, hub)));

  lock_manager_config lcfg;
  if (req.recover)
    lcfg.recovering = req.recover->id;
  auto locks = spawn_lock_manager(sys, lcfg);
  if (!locks) {
    std::cerr << "error: lock manager: " << sys.render(locks.error()) << "\n";
    trace::stop();
    return exit_usage;
  }
  auto qcfg = make_queue_config(settings, req.sources, workers, workers);
  qcfg.state_dir = req.state_dir;
  qcfg.recover = req.recover;
  qcfg.recorded_ops = req.recorded_ops;
  auto spawned = spawn_queue(sys, qcfg, hub, *locks);
  if (!spawned) {
    std::cerr << "error: queue: " << sys.render(spawned.error()) << "\n";
    caf::anon_send_exit(*locks, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    for (auto& s : sinks)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    trace::stop();
    return exit_usage;
  }
  auto q = *spawned;
  if (!req.stop_after_frames.empty()) {
    auto injector = sys.spawn(stop_injector, q, req.stop_after_frames);
    caf::anon_send(hub, atom::subscribe::value, injector);
    sinks.push_back(caf::actor_cast<caf::actor>(injector));
  }
  spdlog::info("segment_started jobs={} workers={} profile={}", req.folders.size(),
               workers, config::to_string(settings.run_profile));

  caf::scoped_actor self{sys};
  for (auto& folder : req.folders) {
    job_spec spec;
    spec.path = folder;
    spec.force = req.force;
    self->request(q, std::chrono::seconds(10), atom::add::value, spec)
      .receive([](std::uint64_t) {},
               [&](caf::error& err) {
                 spdlog::error("queue_add_failed path={} error=\"{}\"", folder,
                               sys.render(err));
               });
  }

  // The signal thread turns SIGINT/SIGTERM into a stop of every job.
  std::atomic<bool> finished{false};
  std::atomic<int> caught{0};
  std::thread signal_thread([&] {
    timespec tick{0, 50'000'000};
    while (!finished.load()) {
      int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        caught = sig;
        spdlog::warn("signal_received signal={} action=stop", sig == SIGINT ? "INT" : "TERM");
        caf::anon_send(q, atom::stop_all::value);
      }
    }
  });

  std::vector<job_summary> results;
  self->request(q, caf::infinite, atom::wait::value)
    .receive([&](std::vector<job_summary>& all) { results = std::move(all); },
             [&](caf::error& err) {
               spdlog::error("queue_failed error=\"{}\"", sys.render(err));
             });
  finished = true;
  signal_thread.join();

  print_summary(req.status_json ? std::cerr : std::cout, results, req.skipped);
  // Stop in dataflow order so the sinks print every last event.
  self->send_exit(q, caf::exit_reason::user_shutdown);
  self->wait_for(q);
  self->send_exit(*locks, caf::exit_reason::user_shutdown);
  self->wait_for(*locks);
  self->send_exit(hub, caf::exit_reason::user_shutdown);
  self->wait_for(hub);
  for (auto& s : sinks) {
    self->send_exit(s, caf::exit_reason::user_shutdown);
    self->wait_for(s);
  }
  if (!req.trace_file.empty()) {
    trace::stop();
    spdlog::info("trace_written file={}", req.trace_file);
  }
  int rc = exit_code_of(results);
  if (results.empty())
    rc = exit_failed;
  if (out != nullptr)
    *out = results;
  return rc;
}

int run_segment(int argc, char** argv) {
  settings_options opts;
  std::int64_t workers = -1;
  bool force = false;
  bool recursive = false;
  bool status_json = false;
  bool reference_status = false;
  bool skip_missing = false;
  bool force_run = false;
  bool follow = false;
  std::string tile_size;
  std::string summary_json_file;
  std::string state_dir;
  std::string req_trace_file;
  bool req_trace_embed = false;
  std::vector<std::string> paths;
  arg_parser parser(
    "segflow segment [--workers N] [--profile NAME] [--config FILE] [--force] "
    "[--recursive] [--status-json] [--skip-missing] [--force-run] PATH...",
    "Segments each acquisition folder (metadata.json + frames) into crops under\n"
    "<root>/objects/<rel>/ and an EcoTaxa archive under <root>/export/ecotaxa/,\n"
    "one job per folder, then exits. Ctrl-C stops cooperatively; running the\n"
    "same command again resumes from the committed frames.\n"
    "Every path is checked first: any problem is listed and nothing starts\n"
    "(exit code 2) unless --skip-missing. A preflight then estimates memory,\n"
    "disk and /dev/shm and refuses to start when they do not fit, unless\n"
    "--force-run.\n"
    "A bad frame fails alone (reason in the summary and errors/<rel>/); a bad\n"
    "acquisition fails alone; the run goes on and exits 1.");
  opts.declare(parser);
  parser.option("workers", &workers, "N", "segment workers (default: cores - 1, at least 1)",
                1, 256);
  parser.flag("force", &force, "remove earlier outputs and start over");
  parser.flag("recursive", &recursive, "segment every acquisition folder below each PATH");
  parser.flag("status-json", &status_json, "status events as JSON lines on stdout");
  parser.flag("reference-status", &reference_status,
              "also print the reference segmenter's status strings as JSON lines");
  parser.flag("skip-missing", &skip_missing,
              "skip paths that are missing or not acquisitions (listed in the summary) "
              "instead of refusing to start");
  parser.flag("follow", &follow,
              "follow acquisitions still being written: segment each frame once "
              "integrity.check lists it, end after pipeline.follow_idle_s (300 s) without "
              "a new frame");
  parser.option("tile-size", &tile_size, "WxH",
                "segment every frame in tiles of W x H px (tiled frames give the same "
                "objects; sets tiling.max_frame_pixels = 0 and tiling.tile_width/height)");
  parser.flag("force-run", &force_run,
              "start even when the preflight estimates too little memory or disk");
  parser.option("trace", &req_trace_file, "FILE",
                "record every message between actors to FILE (see segflow trace)");
  parser.flag("trace-embed", &req_trace_embed,
              "embed frame and crop bytes in the trace (default: hash + size)");
  parser.option("state", &state_dir, "DIR",
                "the operations journal goes to DIR/ops (default: $XDG_STATE_HOME/segflow "
                "or ~/.local/state/segflow; see segflow ops)");
  parser.option("summary-json", &summary_json_file, "FILE",
                "also write the job summaries, stage times, peak RSS and CPU as JSON");
  parser.positionals(&paths, "PATH", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;

  segment_request req;
  if (follow)
    opts.sets.push_back("pipeline.follow=true");
  if (!tile_size.empty()) {
    int w = 0, h = 0;
    char x = 0, rest = 0;
    if (std::sscanf(tile_size.c_str(), "%d%c%d%c", &w, &x, &h, &rest) != 3 || x != 'x') {
      std::cerr << "error: --tile-size expects WxH (e.g. 1024x1024), got '" << tile_size
                << "'\n";
      return exit_usage;
    }
    // The settings check the range, naming the key.
    opts.sets.push_back("tiling.max_frame_pixels=0");
    opts.sets.push_back("tiling.tile_width=" + std::to_string(w));
    opts.sets.push_back("tiling.tile_height=" + std::to_string(h));
  }
  if (!load_run_settings(opts, workers, req.settings, req.sources))
    return exit_usage;

  std::vector<std::filesystem::path> inputs(paths.begin(), paths.end());
  auto found = io::find_acquisition_dirs(inputs, recursive);
  for (auto& d : found.dirs) {
    if (auto problem = layout_problem(d); !problem.empty())
      found.problems.push_back(std::move(problem));
    else
      req.folders.push_back(d.string());
  }
  if (!found.problems.empty()) {
    if (!skip_missing) {
      for (auto& p : found.problems)
        std::cerr << "error: " << p << "\n";
      std::cerr << "nothing was segmented: fix the paths above (or --skip-missing)\n";
      return exit_usage;
    }
    for (auto& p : found.problems) {
      spdlog::warn("path_skipped problem=\"{}\"", p);
      req.skipped.push_back(p);
    }
    if (req.folders.empty()) {
      std::cerr << "error: no acquisition to segment: every path was skipped\n";
      return exit_usage;
    }
  }
  req.state_dir =
    (state_dir.empty() ? io::default_state_dir() : std::filesystem::path(state_dir)).string();
  req.force_run = force_run;
  req.force = force;
  req.trace_file = req_trace_file;
  req.trace_embed = req_trace_embed;
  req.status_json = status_json;
  req.reference_status = reference_status;
  // The journal is pruned, then an export a dead process of this host left
  // unfinished is recovered first.
  prune_journal(req.state_dir, req.settings);
  recover_dead_operations(req.state_dir, req.folders, req);
  std::vector<job_summary> results;
  int rc = segment_folders(req, &results);
  if (!summary_json_file.empty() && !write_summary_json(summary_json_file, req, results))
    rc = exit_failed;
  return rc;
}

} // namespace seg::cli
