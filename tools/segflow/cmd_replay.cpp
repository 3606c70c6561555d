// `segflow replay FILE`: re-drives the actor set from a trace's external
// inputs (the jobs added, the settings, the stops at their recorded points)
// and checks that the same messages result.
//
// The run is real (real files, real threads), not on CAF's deterministic
// test scheduler: workers run detached and decode for real. So messages are
// compared as canonical multisets per receiving actor (times, ids, pids,
// hosts and the data root's location removed), which is what stays
// deterministic whatever the interleaving; with frame results carrying the
// features and the crops' hashes, equal messages mean equal outputs.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "actors/io/acquisition.hpp"
#include "actors/io/python_format.hpp"
#include "actors/io/trace_compare.hpp"
#include "actors/io/trace_file.hpp"
#include "messages/job.hpp"
#include "messages/msgpack_codec.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/segment_run.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

// Actors of the pipeline; a message from anything else is an external input.
const std::set<std::string> pipeline_roles = {
  "queue",     "reader",      "exporter",  "segment-worker", "lock-manager",
  "status-hub", "progress-sink", "json-sink", "reference-sink", "remote"};

std::string role_of(const std::string& label) {
  return label.substr(0, label.find('#'));
}

struct external_inputs {
  std::vector<job_spec> jobs;
  std::vector<std::uint32_t> stops; ///< frames reported before each stop
};

external_inputs read_inputs(const std::string& file) {
  io::trace_reader reader(file);
  external_inputs in;
  std::uint32_t frames = 0;
  while (auto r = reader.next()) {
    auto receiver = role_of(r->receiver);
    if (receiver == "exporter" && r->type == "seg::frame_result")
      ++frames;
    if (receiver != "queue" || pipeline_roles.count(role_of(r->sender)) > 0)
      continue;
    if (r->type == "atom:add,seg::job_spec") {
      auto handle = msgpack::unpack(r->payload.data(), r->payload.size());
      auto& arr = handle.get();
      if (arr.type != msgpack::type::ARRAY || arr.via.array.size != 2)
        throw io::trace_error(file + ": record " + std::to_string(r->seq)
                              + ": malformed job");
      job_spec spec;
      codec::reader cr;
      cr.read_root(arr.via.array.ptr[1], spec);
      in.jobs.push_back(spec);
    } else if (r->type == "atom:stopall") {
      in.stops.push_back(frames);
    }
  }
  return in;
}

std::string remap(const std::string& path, const std::string& from, const std::string& to) {
  if (to.empty() || from.empty() || path.compare(0, from.size(), from) != 0)
    return path;
  return to + path.substr(from.size());
}

} // namespace

int run_replay(int argc, char** argv) {
  std::vector<std::string> files;
  std::string root;
  std::string keep;
  std::vector<std::string> sets;
  arg_parser parser(
    "segflow replay [--root DIR] [--set KEY=VALUE]... [--keep FILE] FILE",
    "Re-runs a recorded trace's jobs with the recorded settings (outputs are\n"
    "recreated from scratch), stops where the recording stopped, and compares\n"
    "the messages. --root maps the recorded data root to DIR; --set changes a\n"
    "setting (the replay should then diverge). Exit 0 when the same messages\n"
    "result, 1 when they diverge (the last line names the first divergent\n"
    "message), 2 when the trace is unreadable.");
  parser.option("root", &root, "DIR", "data root to use instead of the recorded one");
  parser.repeated("set", &sets, "KEY=VALUE", "override one recorded setting");
  parser.option("keep", &keep, "FILE", "keep the replay's own trace in FILE");
  parser.positionals(&files, "FILE", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  if (files.size() != 1) {
    std::cerr << "error: expected one trace file\n";
    return exit_usage;
  }
  const auto& file = files.front();
  io::trace_header header;
  external_inputs inputs;
  try {
    header = io::trace_reader(file).header();
    inputs = read_inputs(file);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  if (inputs.jobs.empty()) {
    std::cerr << "error: " << file << ": no job was added in this trace\n";
    return exit_usage;
  }

  // The recorded settings, exactly: no environment, no user config file.
  auto dir = fs::temp_directory_path() / ("segflow-replay-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto settings_file = dir / "settings.toml";
  std::ofstream(settings_file) << header.settings_toml;
  segment_request req;
  req.sources.file = settings_file.string();
  for (auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: --set expects KEY=VALUE, got '" << s << "'\n";
      return exit_usage;
    }
    req.sources.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  req.sources.overrides.emplace_back("log.level", "warn");
  try {
    req.settings = config::load(req.sources);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  setup_logging(req.settings);
  for (auto& job : inputs.jobs)
    req.folders.push_back(remap(job.path, header.data_root, root));
  // Start from clean outputs, as the recording did, without changing the
  // recorded jobs (their force flag is part of the messages).
  for (auto& folder : req.folders) {
    try {
      auto acq = io::open_acquisition(folder);
      std::error_code ec;
      fs::remove_all(io::objects_dir(acq), ec);
      fs::remove_all(acq.data_root / "errors" / acq.rel, ec);
      fs::remove(io::export_dir(acq) / io::ecotaxa_zip_name(io::python_str_json(
                   io::read_metadata(acq.dir / "metadata.json")["acq_id"])),
                 ec);
      fs::remove(acq.dir / "done.txt", ec);
    } catch (const std::exception& e) {
      std::cerr << "warning: " << folder << ": " << e.what() << "\n";
    }
  }
  req.force = inputs.jobs.front().force;
  req.command = "replay";
  req.stop_after_frames = inputs.stops;
  req.trace_file = keep.empty() ? (dir / "replay.trace").string() : keep;
  req.status_json = false;
  std::vector<job_summary> results;
  segment_folders(req, &results);

  int rc = exit_ok;
  try {
    auto cmp = io::compare_traces(file, req.trace_file);
    if (cmp.equal)
      std::cout << "replay: same messages (" << cmp.compared << " compared)\n";
    else {
      std::cout << "replay: diverged: " << cmp.divergence << "\n";
      rc = exit_failed;
    }
  } catch (const std::exception& e) {
    std::cout << "replay: cannot compare: " << e.what() << "\n";
    rc = exit_failed;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}

} // namespace seg::cli
