#include "tools/segflow/summary_json.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "actors/io/atomic_file.hpp"
#include "actors/io/queue_store.hpp"
#include "tools/segflow/stage_totals_format.hpp"

namespace seg::cli {

namespace {

double seconds_of(const timeval& tv) {
  return double(tv.tv_sec) + double(tv.tv_usec) / 1e6;
}

} // namespace

nlohmann::ordered_json summary_json(const segment_request& req,
                                    const std::vector<job_summary>& jobs) {
  nlohmann::ordered_json out;
  out["segflow_version"] = SEGFLOW_VERSION;
  out["profile"] = config::to_string(req.settings.run_profile);
  out["workers"] = config::effective_workers(
    req.settings, std::max(1u, std::thread::hardware_concurrency()));
  out["opencv_threads"] = req.settings.pipeline.opencv_threads;
  auto& list = out["jobs"] = nlohmann::ordered_json::array();
  for (auto& s : jobs) {
    nlohmann::ordered_json j;
    j["id"] = s.id;
    j["path"] = s.path;
    j["state"] = to_string(job_state(s.state));
    j["frames_total"] = s.frames_total;
    j["frames_done"] = s.frames_done;
    io::put_summary_counts(j, s);
    j["seconds"] = s.seconds;
    io::put_summary_outcome(j, s);
    j["stages"] = stages_json(s.stages);
    list.push_back(std::move(j));
  }
  // The frames each node segmented, over every job.
  std::map<std::string, std::uint64_t> by_node;
  for (auto& s : jobs)
    for (auto& n : s.nodes)
      by_node[n.node] += n.frames;
  auto& nodes = out["nodes"] = nlohmann::ordered_json::object();
  for (auto& [node, frames] : by_node)
    nodes[node] = frames;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto& p = out["process"];
  p["peak_rss_kb"] = ru.ru_maxrss;
  p["user_cpu_s"] = seconds_of(ru.ru_utime);
  p["system_cpu_s"] = seconds_of(ru.ru_stime);
  p["cpu_s"] = seconds_of(ru.ru_utime) + seconds_of(ru.ru_stime);
  p["minor_faults"] = ru.ru_minflt;
  return out;
}

bool write_summary_json(const std::string& file, const segment_request& req,
                        const std::vector<job_summary>& jobs) {
  try {
    io::write_file_atomic(std::filesystem::absolute(file), summary_json(req, jobs).dump(2) + "\n");
    return true;
  } catch (const std::exception& e) {
    std::cerr << "error: --summary-json: " << e.what() << "\n";
    return false;
  }
}

} // namespace seg::cli
