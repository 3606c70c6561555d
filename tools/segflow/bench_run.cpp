// `segflow bench` measurements: child pipeline runs, the decode-only floor
// and stop trials.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include <opencv2/core.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "kernels/decode.hpp"
#include "kernels/frame_bands.hpp"
#include "tools/segflow/bench.hpp"
#include "tools/segflow/bench_process.hpp"

namespace fs = std::filesystem;

namespace seg::cli::bench {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

double cpu_seconds_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The last few lines of a file, for error messages.
std::string tail_of(const fs::path& file, std::size_t max_chars = 600) {
  std::string text;
  try {
    text = io::read_file(file);
  } catch (const std::exception&) {
    return {};
  }
  if (text.size() > max_chars)
    text = "..." + text.substr(text.size() - max_chars);
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

std::vector<std::string> segment_args(const child_options& opts) {
  std::vector<std::string> args{opts.exe, "segment", "-q", "--force"};
  args.insert(args.end(), opts.extra.begin(), opts.extra.end());
  return args;
}

} // namespace

acquisition_info open_acquisition_info(const fs::path& dir) {
  auto a = io::open_acquisition(dir);
  acquisition_info info;
  info.dir = a.dir;
  info.data_root = a.data_root;
  info.rel = a.rel;
  info.name = a.dir.filename().string();
  double bytes = 0;
  for (auto& f : a.frames) {
    info.frames.push_back(a.dir / f);
    bytes += double(fs::file_size(a.dir / f));
  }
  info.mean_frame_bytes = bytes / double(info.frames.size());
  auto first = io::read_file(info.frames.front());
  if (auto size = kernels::frame_size(reinterpret_cast<const std::uint8_t*>(first.data()),
                                     first.size())) {
    info.width = size->width;
    info.height = size->height;
  }
  return info;
}

pipeline_sample run_pipeline(const child_options& opts, const acquisition_info& acq,
                             int workers) {
  pipeline_sample s;
  s.workers = workers;
  auto summary = opts.work_dir / "summary.json";
  auto events = opts.work_dir / "events.jsonl";
  auto errors = opts.work_dir / "segment.err";
  fs::remove(summary);
  auto args = segment_args(opts);
  for (const char* a : {"--status-json", "--summary-json"})
    args.emplace_back(a);
  args.push_back(summary.string());
  args.emplace_back("--workers");
  args.push_back(std::to_string(workers));
  args.push_back(acq.dir.string());

  auto t0 = clock_type::now();
  auto child = spawn_process(args, events, errors);
  auto done = wait_process_sampling(child, 10);
  s.process_wall_s = seconds_since(t0);
  s.exit_code = done.exit_code;
  s.cpu_s = done.cpu_s;
  s.system_s = done.system_s;
  s.minor_faults = done.minor_faults;
  s.peak_rss_mb = done.peak_rss_kb / 1024.0;
  s.peak_footprint_mb = done.peak_footprint_kb / 1024.0;
  s.peak_shm_mb = done.peak_shm_kb / 1024.0;
  if (done.signal != 0 || done.exit_code != 0) {
    s.error = "segment exited with " + describe(done) + ": " + tail_of(errors);
    if (done.signal != 0 || !fs::exists(summary))
      return s;
  }
  try {
    auto j = nlohmann::json::parse(io::read_file(summary));
    const auto& job = j.at("jobs").at(0);
    s.frames = job.at("frames_done").get<std::uint32_t>()
               - job.at("frames_resumed").get<std::uint32_t>();
    s.frames_failed = job.at("frames_failed").get<std::uint32_t>();
    s.objects = job.at("objects").get<std::uint32_t>();
    s.job_s = job.at("seconds").get<double>();
    for (auto& [k, v] : job.at("stages").items())
      s.stages_ms[k] = v.get<double>();
    std::ifstream in(events);
    for (std::string line; std::getline(in, line);) {
      auto ev = nlohmann::json::parse(line, nullptr, false);
      if (ev.is_object() && ev.value("event", "") == "flat_ready")
        s.flat_ms = ev.value("ms", -1.0);
    }
  } catch (const std::exception& e) {
    s.error = "unreadable summary " + summary.string() + ": " + e.what();
  }
  if (s.error.empty() && s.frames == 0)
    s.error = "segment reported no frame segmented";
  return s;
}

decode_sample run_decode_floor(const acquisition_info& acq, int threads,
                               double min_seconds) {
  decode_sample out;
  out.threads = threads;
  std::vector<std::vector<std::uint8_t>> bytes;
  for (auto& f : acq.frames) {
    auto text = io::read_file(f);
    bytes.emplace_back(text.begin(), text.end());
  }
  const std::size_t n = bytes.size();
  std::atomic<int> failures{0};
  // The pipeline's decoder, with its default frame-size limit.
  const std::int64_t max_pixels = 100'000'000;
  auto decode_one = [&](std::size_t i, bool from_memory) {
    try {
      cv::Mat frame;
      if (from_memory) {
        frame = kernels::decode_frame(bytes[i].data(), bytes[i].size(), max_pixels);
      } else {
        auto text = io::read_file(acq.frames[i]);
        frame = kernels::decode_frame(reinterpret_cast<const std::uint8_t*>(text.data()),
                                      text.size(), max_pixels);
      }
      if (frame.empty())
        ++failures;
    } catch (const std::exception&) {
      ++failures;
    }
  };
  // `total` decodes of frames i % n, pulled from one counter by every thread
  // so no thread idles while another still has frames to go.
  auto run = [&](std::size_t total, bool from_memory) {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    auto t0 = clock_type::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (std::size_t k; (k = next++) < total;)
          decode_one(k % n, from_memory);
      });
    for (auto& t : pool)
      t.join();
    return seconds_since(t0);
  };
  for (bool from_memory : {true, false}) {
    double first = run(n, from_memory); // warm-up: caches, allocator
    int passes = std::max(1, int(std::ceil(min_seconds / std::max(first, 1e-3))));
    double cpu0 = cpu_seconds_self();
    double wall = run(n * std::size_t(passes), from_memory);
    double cpu = cpu_seconds_self() - cpu0;
    double fps = double(n) * passes / wall;
    if (from_memory) {
      out.in_memory_fps = fps;
      out.in_memory_cpu_percent = 100.0 * cpu / wall;
      out.passes = passes;
    } else {
      out.with_read_fps = fps;
    }
  }
  if (failures > 0)
    throw std::runtime_error(std::to_string(failures.load())
                             + " frame decodes failed in the decode floor");
  return out;
}

std::vector<stop_sample> run_stop_trials(const child_options& opts,
                                         const acquisition_info& acq, int workers,
                                         int trials, double max_delay_s) {
  std::vector<stop_sample> out;
  std::mt19937_64 rng(20250910);
  double window = std::max(0.3, max_delay_s);
  auto args = segment_args(opts);
  args.emplace_back("--workers");
  args.push_back(std::to_string(workers));
  args.push_back(acq.dir.string());
  auto log = opts.work_dir / "stop.out";
  auto errors = opts.work_dir / "stop.err";
  for (int attempt = 0; int(out.size()) < trials && attempt < 2 * trials; ++attempt) {
    double delay = std::uniform_real_distribution<double>(0.2, window)(rng);
    auto t0 = clock_type::now();
    auto child = spawn_process(args, log, errors);
    std::this_thread::sleep_until(t0 + std::chrono::duration<double>(delay));
    if (poll_process(child)) {
      window = std::max(0.3, window * 0.7); // it finished first: aim earlier
      continue;
    }
    kill(child.pid, SIGINT);
    auto t_kill = clock_type::now();
    auto done = wait_process(child);
    stop_sample s;
    s.delay_s = delay;
    s.latency_ms = 1000.0 * seconds_since(t_kill);
    s.exit_code = done.signal != 0 ? 128 + done.signal : done.exit_code;
    if (done.signal == 0 && done.exit_code == 3)
      out.push_back(s);
    else
      window = std::max(0.3, window * 0.7);
  }
  return out;
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

} // namespace seg::cli::bench
