// The operations journal on real files: ids are unique and never reused,
// records round-trip, the stuck rule and the dead-holder rule.
#include "actors/io/op_journal.hpp"

#include <fstream>
#include <set>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/io/export_lock.hpp"
#include "actors/io/lease_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using seg::io::op_journal;
using seg::io::op_record;
using seg::io::op_state;

pid_t reaped_pid() {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0)
    ::_exit(0);
  REQUIRE(::waitpid(pid, nullptr, 0) == pid);
  return pid;
}

} // namespace

TEST_CASE("op journal: ids are unique, records round-trip, oldest first", "[io]") {
  seg::test::temp_dir tmp;
  op_journal journal(tmp.path);
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    op_record rec;
    rec.job = std::uint64_t(i);
    rec.acquisition = "/d/img/a" + std::to_string(i);
    journal.create(rec);
    CHECK(rec.id.rfind("op-", 0) == 0);
    CHECK(ids.insert(rec.id).second);
  }
  auto all = journal.all();
  REQUIRE(all.size() == 50);
  for (std::size_t i = 1; i < all.size(); ++i)
    CHECK(all[i - 1].created_unix_ms <= all[i].created_unix_ms);

  op_record rec = all[7];
  rec.state = op_state::write_started;
  rec.scope.emplace();
  rec.scope->outputs = {"/d/export/ecotaxa/ecotaxa_a.zip", "/d/img/a/done.txt"};
  rec.scope->records = {"/d/objects/a/.segflow/frames/f1.jsonl"};
  rec.scope->locks = {{"/d/objects/a", "0123"}};
  rec.scope->process_uuid = "u-1";
  journal.write(rec);
  auto back = journal.read(rec.id);
  REQUIRE(back);
  CHECK(back->state == op_state::write_started);
  CHECK(back->acquisition == rec.acquisition);
  REQUIRE(back->scope);
  CHECK(back->scope->outputs == rec.scope->outputs);
  CHECK(back->scope->records == rec.scope->records);
  REQUIRE(back->scope->locks.size() == 1);
  CHECK(back->scope->locks[0].token == "0123");
  CHECK(back->scope->process_uuid == "u-1");
  CHECK(seg::io::is_stuck(*back));
  back->state = op_state::success;
  CHECK_FALSE(seg::io::is_stuck(*back));
  back->scope.reset();
  back->state = op_state::write_failed;
  CHECK_FALSE(seg::io::is_stuck(*back)); // no scope: nothing to recover

  // Names that are not ids of this journal are not read.
  CHECK_FALSE(journal.read("../" + rec.id));
  CHECK_FALSE(journal.read("op-none"));
}

TEST_CASE("op journal: a holder is dead only if provably so on this host", "[io]") {
  op_record rec;
  rec.host = seg::io::host_name();
  rec.boot_id = seg::io::boot_id();
  rec.pid = ::getpid();
  CHECK_FALSE(seg::io::holder_dead_here(rec)); // alive
  rec.pid = reaped_pid();
  CHECK(seg::io::holder_dead_here(rec));
  rec.host = "another-host";
  CHECK_FALSE(seg::io::holder_dead_here(rec)); // unknowable from here
  rec.host = seg::io::host_name();
  rec.pid = ::getpid();
  rec.boot_id = "an-earlier-boot";
  CHECK(seg::io::holder_dead_here(rec) == !seg::io::boot_id().empty());
}

TEST_CASE("op journal: pruning removes operations that are over, never a stuck one",
          "[io]") {
  seg::test::temp_dir tmp;
  op_journal journal(tmp.path);
  constexpr std::int64_t day = 86'400'000;
  std::int64_t order = 0;
  auto add = [&](op_state state, std::int64_t pid, bool scope) {
    op_record rec;
    rec.state = state;
    rec.host = seg::io::host_name();
    rec.boot_id = seg::io::boot_id();
    rec.pid = pid;
    journal.create(rec);
    rec.created_unix_ms += ++order; // one millisecond apart: oldest first is this order
    if (scope)
      rec.scope = seg::io::op_scope{};
    journal.write(rec);
    return rec.id;
  };
  auto done1 = add(op_state::success, ::getpid(), false);
  auto failed = add(op_state::exception, ::getpid(), false);
  auto stuck = add(op_state::write_started, reaped_pid(), true); // dead, scope set
  auto running = add(op_state::computing, ::getpid(), false);    // alive
  auto crashed = add(op_state::computing, reaped_pid(), false);  // dead before its export
  auto done2 = add(op_state::success, ::getpid(), false);
  // A record rewrite a dead writer left half done.
  auto temp = tmp.path / "ops" / (".x.json.tmp-" + std::to_string(reaped_pid()) + "-0");
  std::ofstream(temp) << "{";
  auto now = seg::io::unix_ms_now();
  auto present = [&](const std::string& id) { return journal.read(id).has_value(); };

  // All young, within the count: only the temporary file goes.
  CHECK(journal.prune(7 * day, 1000, now) == 0);
  CHECK_FALSE(fs::exists(temp));
  CHECK(journal.all().size() == 6);

  // At most 2 of those over are kept: the newest (done2, crashed).
  CHECK(journal.prune(7 * day, 2, now) == 2);
  CHECK_FALSE(present(done1));
  CHECK_FALSE(present(failed));
  CHECK(present(crashed));
  CHECK(present(done2));

  // Eight days on, everything over goes; the stuck and the running stay.
  CHECK(journal.prune(7 * day, 1000, now + 8 * day) == 2);
  CHECK_FALSE(present(crashed));
  CHECK_FALSE(present(done2));
  CHECK(present(stuck));
  CHECK(present(running));
  CHECK(journal.prune(0, 0, now + 100 * day) == 0);
  CHECK(present(stuck));
}

TEST_CASE("export lock: an operation whose holder gave back every lock before recording its "
          "outcome needs closing, not recovering",
          "[io][export]") {
  seg::test::temp_dir tmp;
  op_record op;
  op.id = "op-test";
  op.state = op_state::write_started;
  seg::io::op_scope scope;
  for (auto name : {"out", "zip"})
    scope.locks.push_back({(tmp.path / name).string(), std::string("token-") + name});
  op.scope = scope;
  // Neither lock on disk: the export had ended.
  CHECK(seg::io::gave_back_its_locks(op));
  // One still held as this operation's: it did not get that far.
  seg::io::lease_info info;
  info.held.key = op.scope->locks[1].key;
  info.held.token = op.scope->locks[1].token;
  info.held.pid = ::getpid();
  info.held.host = "test";
  info.op = op.id;
  info.indefinite = true;
  REQUIRE(seg::io::take_lease(info, std::chrono::seconds(30), "test", "key", "test").what
          == seg::io::take_result::taken);
  CHECK_FALSE(seg::io::gave_back_its_locks(op));
  // Only write_started qualifies: computing is still taking its locks.
  seg::io::give_back_lease(info.held, "test", /*indefinite=*/true);
  REQUIRE(seg::io::gave_back_its_locks(op));
  op.state = op_state::computing;
  CHECK_FALSE(seg::io::gave_back_its_locks(op));
}
