#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace seg {

/// One job as the exporter sees it.
struct export_job {
  job_plan plan;
  std::filesystem::path objects_dir;  ///< <root>/objects/<rel>: crops, TSV copy
  std::filesystem::path records_dir;  ///< per-frame records: a frame is committed
                                      ///< iff its record exists
  std::filesystem::path errors_dir;   ///< <root>/errors/<rel>: failed frames
  std::set<std::uint32_t> committed;
  std::uint32_t resumed = 0;
  std::vector<std::string> failures;
  std::set<std::uint32_t> failed;
  std::uint32_t new_objects = 0;
  stage_totals stages;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point last_result;
};

struct exporter_state {
  static inline const char* name = "exporter";
  queue_actor queue;
  status_hub_actor hub;
  std::map<std::uint64_t, export_job> jobs;
};

/// The exporter: see exporter_actor in interfaces.hpp.
exporter_actor::behavior_type
exporter(exporter_actor::stateful_pointer<exporter_state> self, queue_actor queue,
         status_hub_actor hub);

/// Folder of a job's per-frame records under its objects folder.
std::filesystem::path records_dir(const std::filesystem::path& objects_dir);

} // namespace seg
