#include "actors/io/export_lock.hpp"

#include <algorithm>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "actors/io/ecotaxa/ecotaxa_export.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/lease_file.hpp"
#include "actors/io/output_layout.hpp"
#include "messages/job.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

constexpr const char* tag = "export-lock";

void write_logged(const op_journal& journal, op_record& op) {
  try {
    journal.write(op);
  } catch (const std::exception& e) {
    spdlog::error("journal_write_failed op={} error=\"{}\"", op.id, e.what());
  }
}

void give_back(op_record& op) {
  if (!op.scope)
    return;
  for (auto& l : op.scope->locks) {
    lease held;
    held.key = l.key;
    held.token = l.token;
    give_back_lease(held, tag, /*indefinite=*/true);
  }
  op.scope->locks.clear();
}

} // namespace

std::vector<std::string> export_keys(const job_plan& plan, const output_layout& layout) {
  std::vector<std::string> keys{layout.objects_dir().string()};
  if (plan.ecotaxa)
    keys.push_back(layout.zip_file().string());
  return keys;
}

std::vector<std::string> job_keys(const job_plan& plan, const output_layout& layout) {
  make_owned_dirs(layout.data_root(), layout.objects_dir());
  if (plan.ecotaxa)
    make_owned_dirs(layout.data_root(), layout.export_dir());
  auto canonical = [](const fs::path& p) {
    std::error_code ec;
    auto c = fs::canonical(p, ec);
    return ec ? p : c;
  };
  std::vector<std::string> keys{canonical(plan.acquisition).string()};
  for (auto& k : export_keys(plan, layout)) {
    fs::path p{k};
    std::error_code ec;
    keys.push_back(fs::is_directory(p, ec)
                     ? canonical(p).string()
                     : (canonical(p.parent_path()) / p.filename()).string());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string stuck_refusal(const job_plan& plan, const output_layout& layout,
                          const std::string& recovering) {
  for (auto& key : export_keys(plan, layout))
    if (auto l = read_lease(key, /*indefinite=*/true);
        l && l->indefinite && (recovering.empty() || l->op != recovering))
      return "the outputs of " + plan.acquisition + " (" + key
             + ") are held by operation " + l->op + " (pid " + std::to_string(l->held.pid)
             + " on " + l->held.host + " since " + utc_iso_ms(l->held.since_unix_ms)
             + "), whose export did not finish: run `segflow ops recover " + l->op + "`";
  return {};
}

std::optional<op_record> start_operation(const op_journal& journal, const job_plan& plan,
                                         std::optional<op_record> recovered) {
  op_record op;
  if (recovered) {
    op = std::move(*recovered);
    ++op.recoveries;
  }
  op.job = plan.id;
  op.acquisition = plan.acquisition;
  op.host = host_name();
  op.pid = ::getpid();
  op.boot_id = boot_id();
  try {
    if (op.id.empty())
      journal.create(op);
    else
      spdlog::warn("operation_recovering op={} job={} acquisition=\"{}\" recoveries={}",
                   op.id, plan.id, plan.acquisition, op.recoveries);
    op.state = op_state::computing;
    journal.write(op);
  } catch (const std::exception& e) {
    spdlog::warn("journal_unavailable job={} error=\"{}\"", plan.id, e.what());
    return std::nullopt;
  }
  spdlog::info("operation_started op={} job={} acquisition=\"{}\"", op.id, plan.id,
               plan.acquisition);
  return op;
}

std::string begin_export(const op_journal& journal, op_record& op, const job_plan& plan,
                         const output_layout& layout, std::vector<std::string> records) {
  if (plan.ecotaxa)
    fs::create_directories(layout.export_dir());
  // The scope (with the locks' tokens) is journalled before the locks are
  // taken, so a crash in between leaves an operation ops stuck lists and ops
  // recover finishes; state computing + scope = locks not all taken yet.
  bool recovered = op.scope && !op.scope->locks.empty();
  if (recovered) {
    op.scope->records = std::move(records);
  } else {
    auto keys = export_keys(plan, layout);
    std::sort(keys.begin(), keys.end());
    auto identity = new_export_identity();
    op_scope scope;
    scope.data_root = layout.data_root().string();
    scope.outputs = {layout.done_file().string()};
    if (plan.ecotaxa) {
      scope.outputs.push_back(layout.zip_file().string());
      scope.outputs.push_back(layout.tsv_file().string());
      scope.temp_dirs.push_back(layout.export_dir().string());
    }
    scope.temp_dirs.push_back(layout.objects_dir().string());
    scope.temp_dirs.push_back(layout.acquisition_dir().string());
    scope.records = std::move(records);
    scope.process_datetime = identity.datetime;
    scope.process_uuid = identity.uuid;
    for (auto& k : keys)
      scope.locks.push_back({k, random_token()});
    op.scope = std::move(scope);
    op.state = op_state::computing;
    journal.write(op);
  }
  lease_info proto;
  proto.held.pid = ::getpid();
  proto.held.host = host_name();
  proto.held.since_unix_ms = unix_ms_now();
  proto.held.expires_unix_ms = proto.held.since_unix_ms;
  proto.op = op.id;
  proto.indefinite = true;
  std::vector<lease> taken;
  for (auto& l : op.scope->locks) {
    if (auto on_disk = read_lease(l.key, /*indefinite=*/true);
        on_disk && on_disk->indefinite && on_disk->op == op.id && on_disk->held.token == l.token)
      continue; // a recovered operation keeps its locks
    auto info = proto;
    info.held.key = l.key;
    info.held.token = l.token;
    auto r = take_lease(info, std::chrono::seconds(30), proto.held.host, "key", tag);
    if (r.what != take_result::taken) {
      for (auto& t : taken)
        give_back_lease(t, tag, /*indefinite=*/true);
      if (!recovered) {
        op.scope.reset();
        write_logged(journal, op);
      }
      return r.text;
    }
    taken.push_back(info.held);
  }
  op.state = op_state::write_started;
  journal.write(op);
  return {};
}

void end_operation(const op_journal& journal, op_record& op, op_state state,
                   const std::string& error) {
  give_back(op);
  op.scope.reset();
  op.state = state;
  op.error = error;
  write_logged(journal, op);
  spdlog::info("operation_ended op={} job={} state={}", op.id, op.job, to_string(state));
}

bool holds_its_locks(const op_record& op, std::string& problem) {
  if (!op.scope)
    return false;
  // State computing with a scope: the export crashed before taking all its
  // locks; a missing one was never taken, not cleared.
  bool pending = op.state == op_state::computing;
  for (auto& l : op.scope->locks) {
    auto on_disk = read_lease(l.key, /*indefinite=*/true);
    if (!on_disk && pending)
      continue;
    if (!on_disk) {
      problem = "the lock on " + l.key + " is gone";
      return false;
    }
    if (!on_disk->indefinite || on_disk->op != op.id || on_disk->held.token != l.token) {
      problem = "the lock on " + l.key + " is held by "
                + (on_disk->op.empty() ? "pid " + std::to_string(on_disk->held.pid)
                                       : "operation " + on_disk->op)
                + " now";
      return false;
    }
  }
  return true;
}

bool gave_back_its_locks(const op_record& op) {
  if (!op.scope || op.state != op_state::write_started || op.scope->locks.empty())
    return false;
  for (auto& l : op.scope->locks) {
    auto on_disk = read_lease(l.key, /*indefinite=*/true);
    if (on_disk && on_disk->indefinite && on_disk->op == op.id)
      return false;
  }
  return true;
}

void fail_export(const op_journal& journal, op_record& op, const std::string& error) {
  op.state = op_state::write_failed;
  op.error = error;
  write_logged(journal, op);
  spdlog::error("operation_stuck op={} job={} state=write_failed error=\"{}\" "
                "recover=\"segflow ops recover {}\"",
                op.id, op.job, error, op.id);
}

} // namespace seg::io
