// `segflow replay FILE`: re-drives the actor set from a trace's external
// inputs (the jobs added, the settings, the stops at their recorded points,
// for serve traces the control commands and worker losses, see
// replay_serve.cpp) and checks that the same messages result.
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
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "actors/io/acquisition.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/python_format.hpp"
#include "tools/segflow/trace_compare.hpp"
#include "actors/io/trace_file.hpp"
#include "messages/job.hpp"
#include "messages/msgpack_codec.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/replay.hpp"
#include "tools/segflow/segment_run.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

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
    if (receiver != "queue" || sender_role(r->sender, receiver) != "external")
      continue;
    if (r->type == "atom:add,seg::job_spec") {
      in.jobs.push_back(payload_element<job_spec>(file, *r, 1, 2));
    } else if (r->type == "atom:stopall") {
      in.stops.push_back(frames);
    }
  }
  return in;
}

// The output layout of the acquisition in `folder`.
io::output_layout layout_of(const std::string& folder) {
  auto acq = io::open_acquisition(folder);
  return io::output_layout(
    acq, io::python_str_json(io::read_metadata(acq.dir / "metadata.json")["acq_id"]));
}

// Removes what a run wrote for the acquisition in `folder`.
void remove_outputs(const std::string& folder) {
  try {
    io::remove_outputs(layout_of(folder));
  } catch (const std::exception& e) {
    std::cerr << "warning: " << folder << ": " << e.what() << "\n";
  }
}

// Keeps only the records of `committed` frames (see restore_committed_state).
void keep_committed(const std::string& folder, const std::set<std::uint32_t>& committed) {
  auto frames = io::open_acquisition(folder).frames;
  auto layout = layout_of(folder);
  for (std::uint32_t i = 0; i < frames.size(); ++i)
    if (committed.count(i) == 0)
      fs::remove(layout.record_file(frames[i]));
  fs::remove(layout.tsv_file());
  fs::remove(layout.zip_file());
  fs::remove(layout.done_file());
}

} // namespace

std::map<std::uint64_t, std::string> recorded_operations(const std::string& file) {
  io::trace_reader reader(file);
  std::map<std::uint64_t, std::string> ops;
  while (auto r = reader.next())
    if (r->type == "note:operation,u64,str")
      ops[payload_element<std::uint64_t>(file, *r, 1, 3)] =
        payload_element<std::string>(file, *r, 2, 3);
  return ops;
}

std::string remap(const std::string& path, const replay_setup& setup) {
  const auto& from = setup.recorded_root;
  const auto& to = setup.root;
  if (to.empty() || from.empty() || path.compare(0, from.size(), from) != 0)
    return path;
  return to + path.substr(from.size());
}

void restore_committed_state(const replay_setup& setup) {
  // The reader's open names each run's folder; its run message carries the
  // frames committed when the run began. The first run of a folder counts.
  std::map<std::uint64_t, std::string> folder_of_run;
  std::map<std::string, std::set<std::uint32_t>> committed;
  std::set<std::string> resolved;
  std::vector<std::string> order;
  io::trace_reader reader(setup.file);
  auto note = [&](const std::string& folder) {
    if (committed.emplace(folder, std::set<std::uint32_t>{}).second)
      order.push_back(folder);
  };
  while (auto r = reader.next()) {
    auto receiver = role_of(r->receiver);
    // Jobs added but never opened (refused, stopped early) start clean too.
    if (receiver == "queue" && r->type == "atom:add,seg::job_spec")
      note(remap(payload_element<job_spec>(setup.file, *r, 1, 2).path, setup));
    if (receiver == "queue" && r->type == "atom:add,seg::job_specs")
      for (auto& spec : payload_element<std::vector<job_spec>>(setup.file, *r, 1, 2))
        note(remap(spec.path, setup));
    // A run whose every frame was committed before (an export replayed by
    // `ops recover`) is finished by the exporter at its begin: no run
    // message lists them, its summary does.
    if (receiver == "queue" && r->type == "atom:finished,seg::job_summary"
        && role_of(r->sender) == "exporter") {
      auto s = payload_element<job_summary>(setup.file, *r, 1, 2);
      auto it = folder_of_run.find(s.id);
      if (it != folder_of_run.end() && s.frames_total > 0
          && s.frames_resumed == s.frames_total && resolved.insert(it->second).second)
        for (std::uint32_t i = 0; i < s.frames_total; ++i)
          committed[it->second].insert(i);
    }
    if (receiver != "reader")
      continue;
    if (r->type == "atom:open,seg::job_spec") {
      auto spec = payload_element<job_spec>(setup.file, *r, 1, 2);
      auto folder = remap(spec.path, setup);
      folder_of_run[spec.id] = folder;
      note(folder);
    } else if (r->type == "atom:run,u64,seg::frame_indices,str") {
      auto run = payload_element<std::uint64_t>(setup.file, *r, 1, 4);
      auto it = folder_of_run.find(run);
      // Later runs of a folder resume from the replay's own commits.
      if (it == folder_of_run.end() || !resolved.insert(it->second).second)
        continue;
      auto frames = payload_element<std::vector<std::uint32_t>>(setup.file, *r, 2, 4);
      committed[it->second].insert(frames.begin(), frames.end());
    }
  }
  segment_request prefix;
  prefix.sources = setup.sources;
  prefix.settings = setup.settings;
  prefix.command = "replay-prefix";
  for (auto& folder : order) {
    remove_outputs(folder);
    if (!committed[folder].empty())
      prefix.folders.push_back(folder);
  }
  if (prefix.folders.empty())
    return;
  std::cout << "replay: re-creating the committed frames the recording resumed from\n";
  segment_folders(prefix, nullptr);
  for (auto& folder : prefix.folders)
    keep_committed(folder, committed[folder]);
}

int run_replay(int argc, char** argv) {
  std::vector<std::string> files;
  std::string keep;
  std::vector<std::string> sets;
  replay_setup setup;
  arg_parser parser(
    "segflow replay [--root DIR] [--set KEY=VALUE]... [--keep FILE] FILE",
    "Re-runs a recorded trace with the recorded settings and compares the\n"
    "messages. A segment trace: its jobs (outputs recreated from the committed\n"
    "frames the recording started from), stopped where the recording stopped.\n"
    "A serve trace: a fresh in-process queue gets the recorded control commands\n"
    "at their recorded points of progress, and worker losses are re-driven.\n"
    "--root maps the recorded data root to DIR; --set changes a setting (the\n"
    "replay should then diverge). Exit 0 when the same messages result, 1 when\n"
    "they diverge (the last line names the first divergent message), 2 when the\n"
    "trace is unreadable.");
  parser.option("root", &setup.root, "DIR", "data root to use instead of the recorded one");
  parser.repeated("set", &sets, "KEY=VALUE", "override one recorded setting");
  parser.option("keep", &keep, "FILE", "keep the replay's own trace in FILE");
  parser.positionals(&files, "FILE", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  if (files.size() != 1) {
    std::cerr << "error: expected one trace file\n";
    return exit_usage;
  }
  setup.file = files.front();
  const auto& file = setup.file;
  bool serve = false;
  external_inputs inputs;
  try {
    setup.header = io::trace_reader(file).header();
    setup.recorded_root = recorded_data_root(file);
    setup.recorded_ops = recorded_operations(file);
    serve = setup.header.command == "serve";
    if (!serve)
      inputs = read_inputs(file);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  if (!serve && inputs.jobs.empty()) {
    std::cerr << "error: " << file << ": no job was added in this trace\n";
    return exit_usage;
  }

  // The recorded settings, exactly: no environment, no user config file.
  setup.dir = fs::temp_directory_path() / ("segflow-replay-" + std::to_string(::getpid()));
  fs::create_directories(setup.dir);
  auto settings_file = setup.dir / "settings.toml";
  std::ofstream(settings_file) << setup.header.settings_toml;
  setup.sources.file = settings_file.string();
  for (auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: --set expects KEY=VALUE, got '" << s << "'\n";
      return exit_usage;
    }
    setup.sources.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  setup.sources.overrides.emplace_back("log.level", "warn");
  try {
    setup.settings = config::load(setup.sources);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  setup_logging(setup.settings);
  setup.own_trace = keep.empty() ? (setup.dir / "replay.trace").string() : keep;

  try {
    restore_committed_state(setup);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  std::error_code ec;
  if (serve) {
    if (replay_serve(setup) == exit_usage) {
      fs::remove_all(setup.dir, ec);
      return exit_usage;
    }
  } else {
    segment_request req;
    req.sources = setup.sources;
    req.settings = setup.settings;
    for (auto& job : inputs.jobs)
      req.folders.push_back(remap(job.path, setup));
    // The recorded jobs as they were (their force flag is part of the messages).
    req.force = inputs.jobs.front().force;
    req.command = "replay";
    req.stop_after_frames = inputs.stops;
    req.trace_file = setup.own_trace;
    req.recorded_ops = setup.recorded_ops;
    req.status_json = false;
    std::vector<job_summary> results;
    segment_folders(req, &results);
  }

  int rc = exit_ok;
  try {
    auto cmp = compare_traces(file, setup.own_trace);
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
  fs::remove_all(setup.dir, ec);
  return rc;
}

} // namespace seg::cli
