#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/job.hpp"
#include "tools/segflow/segment_run.hpp"

namespace seg::cli {

/// The outcome of a `segment` run as JSON, for `segflow bench` and scripts:
/// - "segflow_version", "profile", "workers" (effective segment workers),
///   "opencv_threads";
/// - "jobs": one object per job_summary with every field ("state" as its
///   name, "seconds" in s), "stages" (every stage_totals field, ms summed
///   over frames) and "nodes" ({"host:pid": frames} of the run);
/// - "nodes": the frames each node (host:pid) segmented, over every job;
/// - "process": this process's own resource use so far from
///   getrusage(RUSAGE_SELF): "peak_rss_kb" (ru_maxrss, KiB), "user_cpu_s",
///   "system_cpu_s", "cpu_s".
nlohmann::ordered_json summary_json(const segment_request& req,
                                    const std::vector<job_summary>& jobs);

/// Writes summary_json(req, jobs) to `file` atomically (temporary name, then
/// rename). Prints the problem to stderr and returns false if it cannot.
bool write_summary_json(const std::string& file, const segment_request& req,
                        const std::vector<job_summary>& jobs);

} // namespace seg::cli
