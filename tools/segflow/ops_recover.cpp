#include "tools/segflow/ops_recover.hpp"

#include <iostream>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "actors/io/atomic_file.hpp"
#include "actors/io/export_lock.hpp"
#include "actors/io/frame_record.hpp"
#include "actors/io/lease_file.hpp"
#include "tools/segflow/args.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

/// Crops in `objects` that no record in `records_dir` names.
std::size_t remove_orphan_crops(const fs::path& objects, const fs::path& records_dir) {
  std::set<std::string> named;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(records_dir, ec)) {
    if (e.path().extension() != ".jsonl")
      continue;
    try {
      for (auto& obj : io::read_frame_record(e.path()).objects)
        named.insert(obj.crop_file);
    } catch (const std::exception& x) {
      spdlog::warn("record_invalid file={} error=\"{}\"", e.path().string(), x.what());
    }
  }
  std::size_t removed = 0;
  for (auto& e : fs::directory_iterator(objects, ec)) {
    auto name = e.path().filename().string();
    if (!e.is_regular_file() || name.empty() || name[0] == '.' || named.count(name) > 0
        || e.path().extension() == ".tsv")
      continue;
    if (fs::remove(e.path(), ec))
      ++removed;
  }
  return removed;
}

} // namespace

std::size_t clean_scope(const io::op_record& op) {
  std::size_t removed = 0;
  auto& s = *op.scope;
  for (auto& d : s.temp_dirs)
    removed += io::remove_stale_temp_files(d);
  std::error_code ec;
  for (auto& o : s.outputs)
    if (fs::remove(o, ec))
      ++removed;
  if (!s.records.empty()) {
    auto records_dir = fs::path(s.records.front()).parent_path();
    // <objects>/.segflow/frames/<stem>.jsonl
    removed += remove_orphan_crops(records_dir.parent_path().parent_path(), records_dir);
  }
  return removed;
}

int recover_operation(const fs::path& state, const std::string& id, segment_request base,
                      std::ostream& out, std::ostream& err) {
  io::op_journal journal(state);
  auto op = journal.read(id);
  if (!op) {
    err << "error: no operation " << id << " in " << journal.dir().string() << "\n";
    return exit_failed;
  }
  if (!io::is_stuck(*op)) {
    err << "error: operation " << id << " is not stuck (state " << io::to_string(op->state)
        << ", no export scope): nothing to recover\n";
    return exit_failed;
  }
  if (op->host == io::host_name() && !io::holder_dead_here(*op)) {
    err << "error: operation " << id << " is held by pid " << op->pid
        << ", alive on this host: stop it first\n";
    return exit_failed;
  }
  std::string problem;
  if (!io::holds_its_locks(*op, problem)) {
    err << "error: refusing to recover " << id << ": " << problem
        << " (recovered already, or the lock was cleared by hand); nothing was touched\n";
    return exit_failed;
  }
  auto removed = clean_scope(*op);
  spdlog::warn("operation_scope_cleaned op={} acquisition=\"{}\" removed={}", id,
               op->acquisition, removed);
  base.folders = {op->acquisition};
  base.force = false;
  base.force_run = true; // nothing is segmented: the preflight's estimate does not apply
  base.recover = *op;
  base.state_dir = state.string();
  std::vector<job_summary> results;
  // The journal says whether the export was replayed (a job with failed
  // frames exits 1 and is still exported).
  segment_folders(base, &results);
  auto after = journal.read(id);
  if (!after || after->state != io::op_state::success) {
    err << "error: the replay of operation " << id << " failed"
        << (after && !after->error.empty() ? ": " + after->error : std::string{}) << "\n";
    return exit_failed;
  }
  out << "recovered " << id << ": " << op->acquisition << " (" << removed
      << " partial files removed, export replayed)\n";
  return exit_ok;
}

std::size_t prune_journal(const fs::path& state, const config::settings& s) {
  auto max_age_ms = std::int64_t(s.journal.keep_days * 86'400'000.0);
  return io::op_journal(state).prune(max_age_ms, std::size_t(s.journal.keep_max),
                                     io::unix_ms_now());
}

std::size_t recover_dead_operations(const fs::path& state,
                                    const std::vector<std::string>& folders,
                                    const segment_request& base) {
  std::size_t n = 0;
  io::op_journal journal(state);
  std::set<std::string> wanted;
  for (auto& f : folders) {
    std::error_code ec;
    wanted.insert(f);
    wanted.insert(fs::weakly_canonical(f, ec).string());
  }
  for (auto& op : journal.all()) {
    if (!io::is_stuck(op) || !io::holder_dead_here(op))
      continue;
    std::error_code ec;
    auto acq = fs::weakly_canonical(op.acquisition, ec).string();
    if (wanted.count(op.acquisition) == 0 && wanted.count(acq) == 0)
      continue;
    if (io::gave_back_its_locks(op)) {
      // Killed between giving its locks back and recording success: its
      // export was complete. Closed, not replayed; the job runs as usual.
      auto closed = op;
      closed.scope.reset();
      closed.state = io::op_state::exception;
      closed.error = "its process died after its export gave back its locks, before "
                     "recording the outcome";
      journal.write(closed);
      spdlog::warn("operation_closed op={} acquisition=\"{}\" holder_pid={} reason=\"{}\"",
                   op.id, op.acquisition, op.pid, closed.error);
      continue;
    }
    spdlog::warn("operation_recover_automatic op={} acquisition=\"{}\" holder_pid={} "
                 "reason=\"holder dead on this host\"",
                 op.id, op.acquisition, op.pid);
    std::ostringstream out, err;
    // The run's --trace records the run that follows, not this replay
    // (`ops recover --trace` records one).
    auto replay = base;
    replay.trace_file.clear();
    if (recover_operation(state, op.id, std::move(replay), out, err) == exit_ok)
      ++n;
    else
      spdlog::error("operation_recover_failed op={} error=\"{}\"", op.id, err.str());
  }
  return n;
}

} // namespace seg::cli
