#include "actors/io/report/run_record.hpp"

#include <cstdint>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"

namespace fs = std::filesystem;

namespace seg::io::report {

fs::path run_record_file(const fs::path& objects_dir) {
  return objects_dir / ".segflow" / "run.json";
}

void write_run_record(const fs::path& objects_dir, const run_record& r) {
  nlohmann::ordered_json j;
  j["format"] = "segflow-run";
  j["version"] = 1;
  j["segflow_version"] = r.segflow_version;
  j["state"] = r.state;
  j["finished"] = r.finished;
  j["seconds"] = r.seconds;
  j["profile"] = r.profile;
  j["settings_digest"] = r.settings_digest;
  j["units"] = r.um_per_px > 0 ? "um" : "px";
  j["um_per_px"] = r.um_per_px;
  j["flat_recalculate"] = r.flat_recalculate;
  j["frames_total"] = r.frames_total;
  j["frames_done"] = r.frames_done;
  j["frames_resumed"] = r.frames_resumed;
  j["frames_failed"] = r.frames_failed;
  j["objects"] = r.objects;
  j["error"] = r.error;
  j["failures"] = r.failures;
  auto& stages = j["stages_ms"] = nlohmann::ordered_json::object();
  for (auto& [name, ms] : r.stages_ms)
    stages[name] = ms;
  auto file = run_record_file(objects_dir);
  write_file_atomic(file, j.dump(2) + "\n");
}

std::optional<run_record> read_run_record(const fs::path& objects_dir) {
  auto file = run_record_file(objects_dir);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return std::nullopt;
  auto text = read_file(file);
  try {
    auto j = nlohmann::ordered_json::parse(text);
    if (j.value("format", "") != "segflow-run" || j.value("version", 0) != 1)
      throw std::runtime_error("not a segflow run record (format/version)");
    run_record r;
    r.segflow_version = j.at("segflow_version").get<std::string>();
    r.state = j.at("state").get<std::string>();
    r.finished = j.at("finished").get<std::string>();
    r.seconds = j.at("seconds").get<double>();
    r.profile = j.at("profile").get<std::string>();
    r.settings_digest = j.at("settings_digest").get<std::string>();
    r.um_per_px = j.at("um_per_px").get<double>();
    r.flat_recalculate = j.at("flat_recalculate").get<bool>();
    r.frames_total = j.at("frames_total").get<long>();
    r.frames_done = j.at("frames_done").get<long>();
    r.frames_resumed = j.at("frames_resumed").get<long>();
    r.frames_failed = j.at("frames_failed").get<long>();
    r.objects = j.at("objects").get<long>();
    r.error = j.at("error").get<std::string>();
    r.failures = j.at("failures").get<std::vector<std::string>>();
    for (auto& [name, ms] : j.at("stages_ms").items())
      r.stages_ms.emplace_back(name, ms.get<double>());
    return r;
  } catch (const std::exception& e) {
    throw io_error(file, e.what());
  }
}

std::string settings_digest(const std::string& settings_toml) {
  std::uint64_t h = 1469598103934665603ull; // FNV-1a 64 offset basis
  for (unsigned char c : settings_toml) {
    h ^= c;
    h *= 1099511628211ull; // FNV-1a 64 prime
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string run_state_text(const run_record& record) {
  return record.state == "done" && record.frames_failed > 0 ? "partial" : record.state;
}

} // namespace seg::io::report
