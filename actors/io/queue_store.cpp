#include "actors/io/queue_store.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/json_depth.hpp"
#include "actors/io/iso_time.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

constexpr const char* format_name = "segflow-queue";
constexpr int format_version = 1;

using json = nlohmann::ordered_json;

std::optional<job_state> state_from_name(const std::string& name) {
  for (auto s : {job_state::pending, job_state::running, job_state::done, job_state::failed,
                 job_state::interrupted, job_state::partial})
    if (name == to_string(s))
      return s;
  return std::nullopt;
}

// Typed field access with errors naming the field.
class field_reader {
public:
  field_reader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {
    // nop
  }

  template <class T>
  T get(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end())
      throw std::runtime_error(where_ + ": missing field \"" + key + "\"");
    try {
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        return integer<T>(*it, key);
      else
        return it->template get<T>();
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(where_ + ": field \"" + key + "\" has the wrong type ("
                               + it->type_name() + ")");
    }
  }

  template <class T>
  T get_or(const char* key, T fallback) const {
    return obj_.contains(key) ? get<T>(key) : fallback;
  }

private:
  // nlohmann converts a float to an integer with a plain cast, undefined
  // behaviour out of range (fuzz_queue_json: "frames_resumed": 1e78): an
  // integral field takes only an integer that fits.
  template <class T>
  T integer(const json& v, const char* key) const {
    bool fits = false;
    if (v.is_number_unsigned())
      fits = v.get<std::uint64_t>() <= std::uint64_t(std::numeric_limits<T>::max());
    else if (v.is_number_integer())
      fits = std::is_signed_v<T> ? v.get<std::int64_t>() >= std::int64_t(std::numeric_limits<T>::min())
                                     && v.get<std::int64_t>() <= std::int64_t(std::numeric_limits<T>::max())
                                 : v.get<std::int64_t>() >= 0
                                     && std::uint64_t(v.get<std::int64_t>())
                                          <= std::uint64_t(std::numeric_limits<T>::max());
    else
      throw std::runtime_error(where_ + ": field \"" + key + "\" has the wrong type ("
                               + v.type_name() + ", not an integer)");
    if (!fits)
      throw std::runtime_error(where_ + ": field \"" + key + "\" is out of range ("
                               + v.dump() + ")");
    return v.get<T>();
  }

  const json& obj_;
  std::string where_;
};

// "nodes": {name: frames}, optional (files of earlier versions have none).
std::vector<node_frames> nodes_from_json(const json& j, const std::string& where) {
  std::vector<node_frames> out;
  auto it = j.find("nodes");
  if (it == j.end())
    return out;
  if (!it->is_object())
    throw std::runtime_error(where + ": field \"nodes\" has the wrong type ("
                             + it->type_name() + ", not an object)");
  for (auto& [name, frames] : it->items()) {
    if (!frames.is_number_unsigned()
        || frames.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max())
      throw std::runtime_error(where + ": nodes[\"" + name + "\"] is not a frame count ("
                               + frames.dump() + ")");
    out.push_back({name, frames.get<std::uint32_t>()});
  }
  return out;
}

job_record job_from_json(const json& j, std::size_t index) {
  auto where = "jobs[" + std::to_string(index) + "]";
  if (!j.is_object())
    throw std::runtime_error(where + ": not an object");
  field_reader r(j, where);
  job_record x;
  x.spec.id = r.get<std::uint64_t>("id");
  x.spec.path = r.get<std::string>("path");
  x.spec.force = r.get<bool>("force");
  x.spec.overrides = r.get<std::vector<std::string>>("overrides");
  auto& s = x.summary;
  s.id = x.spec.id;
  s.path = x.spec.path;
  auto state = r.get<std::string>("state");
  auto parsed = state_from_name(state);
  if (!parsed)
    throw std::runtime_error(where + ": unknown state \"" + state + "\"");
  s.state = *parsed;
  s.frames_done = r.get<std::uint32_t>("frames_done");
  s.frames_total = r.get<std::uint32_t>("frames_total");
  s.frames_resumed = r.get_or<std::uint32_t>("frames_resumed", 0);
  s.frames_failed = r.get<std::uint32_t>("frames_failed");
  s.objects = r.get<std::uint32_t>("objects");
  s.error = r.get<std::string>("error");
  s.failures = r.get_or<std::vector<std::string>>("failures", {});
  s.zip = r.get_or<std::string>("zip", "");
  s.objects_dir = r.get_or<std::string>("objects_dir", "");
  s.op_id = r.get_or<std::string>("op", "");
  s.nodes = nodes_from_json(j, where);
  x.started_unix_ms = r.get<std::int64_t>("started_unix_ms");
  x.elapsed_s = r.get<double>("elapsed");
  s.seconds = x.elapsed_s;
  x.resume = r.get<bool>("resume");
  return x;
}

} // namespace

void put_summary_counts(json& j, const job_summary& s) {
  j["frames_resumed"] = s.frames_resumed;
  j["frames_failed"] = s.frames_failed;
  j["objects"] = s.objects;
}

void put_summary_outcome(json& j, const job_summary& s) {
  j["error"] = s.error;
  j["failures"] = s.failures;
  j["zip"] = s.zip;
  j["objects_dir"] = s.objects_dir;
  j["op"] = s.op_id;
  j["nodes"] = json::object();
  for (auto& n : s.nodes)
    j["nodes"][n.node] = n.frames;
}

json job_json(const job_record& job) {
  auto& s = job.summary;
  json j;
  j["id"] = job.spec.id;
  j["path"] = job.spec.path;
  j["force"] = job.spec.force;
  j["overrides"] = job.spec.overrides;
  j["state"] = to_string(job_state(s.state));
  j["position"] = job.position;
  j["frames_done"] = s.frames_done;
  j["frames_total"] = s.frames_total;
  put_summary_counts(j, s);
  if (job.started_unix_ms > 0)
    j["started"] = utc_iso_ms(job.started_unix_ms);
  else
    j["started"] = nullptr;
  j["started_unix_ms"] = job.started_unix_ms;
  j["elapsed"] = job.elapsed_s;
  put_summary_outcome(j, s);
  j["resume"] = job.resume;
  return j;
}

json listing_json(const queue_listing& all) {
  json out;
  out["paused"] = all.paused;
  out["jobs"] = json::array();
  for (auto& j : all.jobs)
    out["jobs"].push_back(job_json(j));
  return out;
}

std::string format_queue(const queue_snapshot& q) {
  json j;
  j["format"] = format_name;
  j["version"] = format_version;
  j["paused"] = q.paused;
  j["next_id"] = q.next_id;
  j["jobs"] = json::array();
  for (auto& job : q.jobs)
    j["jobs"].push_back(job_json(job));
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

queue_snapshot parse_queue(std::string_view text, const fs::path& file) {
  try {
    if (!json_depth_within(text))
      throw std::runtime_error(json_too_deep());
    auto j = json::parse(text.begin(), text.end());
    if (!j.is_object())
      throw std::runtime_error("not a JSON object");
    field_reader r(j, "queue");
    if (r.get<std::string>("format") != format_name)
      throw std::runtime_error(std::string("not a queue file (format is not \"")
                               + format_name + "\")");
    auto version = r.get<int>("version");
    if (version != format_version)
      throw std::runtime_error("version " + std::to_string(version)
                               + " is not supported (this segflow reads version "
                               + std::to_string(format_version) + ")");
    queue_snapshot q;
    q.paused = r.get<bool>("paused");
    q.next_id = r.get<std::uint64_t>("next_id");
    auto jobs = r.get<json>("jobs");
    if (!jobs.is_array())
      throw std::runtime_error("field \"jobs\" is not an array");
    for (std::size_t i = 0; i < jobs.size(); ++i)
      q.jobs.push_back(job_from_json(jobs[i], i));
    return q;
  } catch (const nlohmann::json::exception& e) { // parse, out_of_range (1E400), type
    throw io_error(file, std::string("invalid queue file: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw io_error(file, std::string("invalid queue file: ") + e.what());
  }
}

void save_queue(const fs::path& file, const queue_snapshot& q) {
  write_file_atomic(file, format_queue(q));
}

std::optional<queue_snapshot> load_queue(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec))
    return std::nullopt;
  return parse_queue(read_file(file), file);
}

void prepare_restart(queue_snapshot& q) {
  std::uint64_t max_id = 0;
  for (auto& job : q.jobs) {
    max_id = std::max(max_id, job.spec.id);
    auto state = job_state(job.summary.state);
    if (state == job_state::running || (state == job_state::interrupted && job.resume)) {
      job.summary.state = job_state::pending;
      job.summary.error.clear();
      job.resume = true;
    }
  }
  q.next_id = std::max(q.next_id, max_id + 1);
}

fs::path default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/')
    return fs::path(xdg) / "segflow";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/')
    return fs::path(home) / ".local" / "state" / "segflow";
  return fs::path("segflow-state");
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size())
      return false; // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
        || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

} // namespace seg::io
