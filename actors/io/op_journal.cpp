#include "actors/io/op_journal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/json_depth.hpp"
#include "actors/io/lease_file.hpp"
#include "shm/process.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

constexpr const char* state_names[] = {"created",   "computing", "write_started",
                                       "success",   "exception", "write_failed"};

using json = nlohmann::ordered_json;

json strings(const std::vector<std::string>& xs) {
  return json(xs);
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  if (auto i = j.find(key); i != j.end() && i->is_array())
    for (auto& x : *i)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

std::string string_of(const json& j, const char* key) {
  if (auto i = j.find(key); i != j.end() && i->is_string())
    return i->get<std::string>();
  return {};
}

std::int64_t int_of(const json& j, const char* key) {
  if (auto i = j.find(key); i != j.end() && i->is_number_integer())
    return i->get<std::int64_t>();
  return 0;
}

fs::path file_of(const fs::path& dir, const std::string& id) {
  return dir / (id + ".json");
}

} // namespace

const char* to_string(op_state s) {
  return state_names[static_cast<int>(s)];
}

std::optional<op_state> parse_op_state(const std::string& text) {
  for (int i = 0; i < 6; ++i)
    if (text == state_names[i])
      return static_cast<op_state>(i);
  return std::nullopt;
}

std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string new_op_id() {
  // The time orders ids; the random part makes two ids of one millisecond
  // differ (create() still refuses an existing one).
  auto t = utc_iso_ms(unix_ms_now()); // 2025-09-11T16:51:00.618Z
  std::string compact;
  for (char c : t)
    if (c != '-' && c != ':' && c != '.')
      compact += c;
  return "op-" + compact + "-" + random_token().substr(0, 12);
}

bool holder_dead_here(const op_record& rec) {
  auto boot = boot_id();
  if (rec.host != host_name())
    return false;
  if (!rec.boot_id.empty() && !boot.empty() && rec.boot_id != boot)
    return true; // a pid of an earlier boot
  return rec.pid > 0 && !shm::process_alive(rec.pid);
}

bool is_stuck(const op_record& rec) {
  return rec.scope.has_value() && rec.state != op_state::success;
}

std::string to_json_text(const op_record& rec) {
  json j;
  j["id"] = rec.id;
  j["state"] = to_string(rec.state);
  j["job"] = rec.job;
  j["acquisition"] = rec.acquisition;
  j["host"] = rec.host;
  j["pid"] = rec.pid;
  j["boot_id"] = rec.boot_id;
  j["created"] = utc_iso_ms(rec.created_unix_ms);
  j["updated"] = utc_iso_ms(rec.updated_unix_ms);
  if (!rec.error.empty())
    j["error"] = rec.error;
  if (rec.recoveries > 0)
    j["recoveries"] = rec.recoveries;
  if (rec.scope) {
    auto& s = *rec.scope;
    json scope;
    scope["data_root"] = s.data_root;
    scope["outputs"] = strings(s.outputs);
    scope["records"] = strings(s.records);
    scope["temp_dirs"] = strings(s.temp_dirs);
    json locks = json::array();
    for (auto& l : s.locks)
      locks.push_back({{"key", l.key}, {"token", l.token}});
    scope["locks"] = locks;
    scope["process_datetime"] = s.process_datetime;
    scope["process_uuid"] = s.process_uuid;
    j["scope"] = scope;
  }
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<op_record> parse_op_record(const std::string& text) {
  if (!json_depth_within(text))
    return std::nullopt;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  op_record rec;
  rec.id = string_of(j, "id");
  auto state = parse_op_state(string_of(j, "state"));
  if (rec.id.empty() || !state)
    return std::nullopt;
  rec.state = *state;
  rec.job = std::uint64_t(int_of(j, "job"));
  rec.acquisition = string_of(j, "acquisition");
  rec.host = string_of(j, "host");
  rec.pid = int_of(j, "pid");
  rec.boot_id = string_of(j, "boot_id");
  rec.created_unix_ms = parse_utc_iso_ms(string_of(j, "created")).value_or(0);
  rec.updated_unix_ms = parse_utc_iso_ms(string_of(j, "updated")).value_or(0);
  rec.error = string_of(j, "error");
  rec.recoveries = std::uint32_t(int_of(j, "recoveries"));
  if (auto i = j.find("scope"); i != j.end() && i->is_object()) {
    op_scope s;
    s.data_root = string_of(*i, "data_root");
    s.outputs = strings_of(*i, "outputs");
    s.records = strings_of(*i, "records");
    s.temp_dirs = strings_of(*i, "temp_dirs");
    if (auto l = i->find("locks"); l != i->end() && l->is_array())
      for (auto& x : *l)
        if (x.is_object())
          s.locks.push_back({string_of(x, "key"), string_of(x, "token")});
    s.process_datetime = string_of(*i, "process_datetime");
    s.process_uuid = string_of(*i, "process_uuid");
    rec.scope = std::move(s);
  }
  return rec;
}

op_journal::op_journal(fs::path state_dir) : dir_(std::move(state_dir) / "ops") {
  // nop
}

void op_journal::create(op_record& rec) const {
  fs::create_directories(dir_);
  for (int attempt = 0;; ++attempt) {
    rec.id = new_op_id();
    rec.created_unix_ms = rec.updated_unix_ms = unix_ms_now();
    int err = create_exclusive(file_of(dir_, rec.id), to_json_text(rec));
    if (err == 0)
      return;
    if (err != EEXIST || attempt == 3)
      throw io_error(file_of(dir_, rec.id),
                     std::string("cannot create the operation's journal file: ")
                       + std::strerror(err));
  }
}

void op_journal::write(op_record& rec) const {
  rec.updated_unix_ms = unix_ms_now();
  write_file_atomic(file_of(dir_, rec.id), to_json_text(rec));
}

std::optional<op_record> op_journal::read(const std::string& id) const {
  // An id names a file here: nothing that could leave the folder.
  if (id.empty() || id.find('/') != std::string::npos || id[0] == '.')
    return std::nullopt;
  auto snap = snapshot_file(file_of(dir_, id));
  if (snap.error != 0)
    return std::nullopt;
  auto rec = parse_op_record(snap.bytes);
  if (!rec || rec->id != id)
    return std::nullopt;
  return rec;
}

std::size_t op_journal::prune(std::int64_t max_age_ms, std::size_t keep_max,
                              std::int64_t now_ms) const {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec))
    return 0;
  try {
    remove_stale_temp_files(dir_);
  } catch (const std::exception& e) {
    spdlog::warn("journal_sweep_failed dir={} error=\"{}\"", dir_.string(), e.what());
  }
  std::vector<op_record> over; // oldest first
  for (auto& op : all())
    if (!is_stuck(op)
        && (op.state == op_state::success || op.state == op_state::exception
            || holder_dead_here(op)))
      over.push_back(std::move(op));
  std::size_t removed = 0;
  for (std::size_t i = 0; i < over.size(); ++i) {
    bool too_old = now_ms - over[i].updated_unix_ms > max_age_ms;
    bool too_many = over.size() - i > keep_max;
    if (!too_old && !too_many)
      continue;
    if (fs::remove(file_of(dir_, over[i].id), ec))
      ++removed;
    else if (ec)
      spdlog::warn("journal_prune_failed op={} error=\"{}\"", over[i].id, ec.message());
  }
  if (removed > 0)
    spdlog::info("journal_pruned dir={} removed={} kept={}", dir_.string(), removed,
                 over.size() - removed);
  return removed;
}

std::vector<op_record> op_journal::all() const {
  std::vector<op_record> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir_, ec)) {
    auto name = e.path().filename().string();
    if (name.size() < 6 || name[0] == '.' || e.path().extension() != ".json")
      continue;
    if (auto rec = read(e.path().stem().string()))
      out.push_back(std::move(*rec));
  }
  std::sort(out.begin(), out.end(), [](const op_record& a, const op_record& b) {
    return a.created_unix_ms != b.created_unix_ms ? a.created_unix_ms < b.created_unix_ms
                                                  : a.id < b.id;
  });
  return out;
}

} // namespace seg::io
