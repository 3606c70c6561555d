// `segflow ops stuck` and `segflow ops recover ID`: the operations journal
// of a state directory (actors/io/op_journal.hpp) as an operator sees it.
#include <cctype>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "actors/io/iso_time.hpp"
#include "actors/io/lease_file.hpp"
#include "actors/io/op_journal.hpp"
#include "actors/io/queue_store.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/ops_recover.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

/// "0", "90s", "10m", "2h", "1d" (a bare number is seconds) in ms; -1 if bad.
std::int64_t parse_duration_ms(const std::string& text) {
  if (text.empty())
    return -1;
  std::size_t i = 0;
  std::int64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + (text[i] - '0');
    if (n > 1000000000)
      return -1;
    ++i;
  }
  if (i == 0)
    return -1;
  auto unit = text.substr(i);
  std::int64_t scale = unit.empty() || unit == "s" ? 1000
                       : unit == "ms"              ? 1
                       : unit == "m"               ? 60000
                       : unit == "h"               ? 3600000
                       : unit == "d"               ? 86400000
                                                   : 0;
  return scale == 0 ? -1 : n * scale;
}

/// "alive", "dead" (provably, on this host) or "unknown" (another host).
std::string holder_state(const io::op_record& op) {
  if (io::holder_dead_here(op))
    return "dead";
  if (op.host == io::host_name())
    return "alive";
  return "unknown";
}

nlohmann::ordered_json to_json(const io::op_record& op, std::int64_t now) {
  nlohmann::ordered_json j;
  j["id"] = op.id;
  j["state"] = io::to_string(op.state);
  j["job"] = op.job;
  j["acquisition"] = op.acquisition;
  j["holder"] = {{"host", op.host}, {"pid", op.pid}, {"state", holder_state(op)}};
  j["created"] = io::utc_iso_ms(op.created_unix_ms);
  j["updated"] = io::utc_iso_ms(op.updated_unix_ms);
  j["age_s"] = (now - op.created_unix_ms) / 1000;
  j["error"] = op.error;
  auto& s = *op.scope;
  nlohmann::ordered_json locks = nlohmann::ordered_json::array();
  for (auto& l : s.locks)
    locks.push_back(l.key);
  j["scope"] = {{"outputs", s.outputs},
                {"records", s.records.size()},
                {"temp_dirs", s.temp_dirs},
                {"locks", locks}};
  return j;
}

int run_stuck(const fs::path& state, std::int64_t min_age_ms, bool json) {
  io::op_journal journal(state);
  auto now = io::unix_ms_now();
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::size_t n = 0;
  for (auto& op : journal.all()) {
    if (!io::is_stuck(op) || now - op.created_unix_ms < min_age_ms)
      continue;
    ++n;
    if (json) {
      list.push_back(to_json(op, now));
      continue;
    }
    std::cout << op.id << "  " << io::to_string(op.state) << "  job " << op.job << "  "
              << op.acquisition << "\n    holder pid " << op.pid << " on " << op.host << " ("
              << holder_state(op) << "), started " << io::utc_iso_ms(op.created_unix_ms)
              << ", age " << (now - op.created_unix_ms) / 1000 << " s\n";
    if (!op.error.empty())
      std::cout << "    error: " << op.error << "\n";
    for (auto& o : op.scope->outputs)
      std::cout << "    output: " << o << "\n";
    for (auto& l : op.scope->locks)
      std::cout << "    locked: " << l.key << "\n";
    std::cout << "    recover: segflow ops recover " << op.id << "\n";
  }
  if (json)
    std::cout << list.dump(2) << "\n";
  else if (n == 0)
    std::cout << "no stuck operation in " << journal.dir().string() << "\n";
  return exit_ok;
}

} // namespace

int run_ops(int argc, char** argv) {
  std::vector<std::string> args;
  std::string state_dir;
  std::string min_age = "10m";
  std::string trace_file;
  bool json = false;
  arg_parser parser(
    "segflow ops stuck [--min-age D] [--json] [--state DIR] | segflow ops recover ID "
    "[--state DIR] [--trace FILE]",
    "The operations journal of a state directory (DIR/ops).\n"
    "stuck: operations whose export did not finish (their outputs are locked):\n"
    "state, holder (host, pid, alive/dead/unknown), scope and age; only those\n"
    "older than --min-age (default 10m; 0 lists all; units ms, s, m, h, d).\n"
    "recover ID: checks that the operation still holds every lock of its scope,\n"
    "cleans the scope (temporary files, a partial archive, crops no committed\n"
    "record names), replays the export from the committed records under the same\n"
    "operation id and releases the locks, with the settings given here (pass\n"
    "those of the interrupted run). Exit code 1 if it refuses or fails.");
  parser.option("state", &state_dir, "DIR",
                "the state directory (default: $XDG_STATE_HOME/segflow or "
                "~/.local/state/segflow)");
  parser.option("min-age", &min_age, "D", "stuck: only operations at least this old");
  parser.flag("json", &json, "stuck: a JSON array");
  parser.option("trace", &trace_file, "FILE",
                "recover: record the replayed export's messages (segflow replay)");
  settings_options opts;
  opts.declare(parser);
  parser.positionals(&args, "stuck | recover ID", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  fs::path state = state_dir.empty() ? io::default_state_dir() : fs::path(state_dir);
  if (args[0] == "stuck" && args.size() == 1) {
    auto ms = parse_duration_ms(min_age);
    if (ms < 0) {
      std::cerr << "error: --min-age " << min_age << ": expected a duration such as 0, 90s, "
                << "10m or 2h\n";
      return exit_usage;
    }
    return run_stuck(state, ms, json);
  }
  if (args[0] == "recover" && args.size() == 2) {
    segment_request base;
    if (!load_run_settings(opts, 0, base.settings, base.sources))
      return exit_usage;
    base.trace_file = trace_file;
    base.command = "recover";
    return recover_operation(state, args[1], std::move(base), std::cout, std::cerr);
  }
  std::cerr << "error: expected `ops stuck` or `ops recover ID`\n";
  return exit_usage;
}

} // namespace seg::cli
