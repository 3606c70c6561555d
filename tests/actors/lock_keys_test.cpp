// Multi-key acquisition on the deterministic fixture: a refusal is retried
// after a backoff (the clock moves, no sleeps) and granted once the key is
// free; retries are bounded; an indefinite lock is refused at once, naming
// its operation and `ops recover`, and is never swept as a dead lease.
#include "actors/lock_manager.hpp"

#include <filesystem>

#include <sys/wait.h>
#include <unistd.h>

#include <caf/event_based_actor.hpp>

#include <catch2/catch.hpp>

#include "tests/actors/fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using seg::test::fixture;

struct outcome {
  std::optional<std::vector<seg::lease>> granted;
  caf::error error;
};

/// Sends acquire(keys) and dispatches what is due now (not the timers).
std::shared_ptr<std::optional<outcome>> ask_keys(fixture& fx, const seg::lock_manager_actor& lm,
                                                 std::vector<std::string> keys) {
  auto out = std::make_shared<std::optional<outcome>>();
  fx.sys.spawn([=](caf::event_based_actor* self) {
    self->request(lm, caf::infinite, seg::atom::acquire::value, keys)
      .then([out](std::vector<seg::lease>& ls) { *out = outcome{std::move(ls), {}}; },
            [out](caf::error& err) { *out = outcome{std::nullopt, std::move(err)}; });
  });
  fx.run();
  return out;
}

seg::lock_manager_actor spawn(fixture& fx) {
  seg::lock_manager_config cfg;
  cfg.acquire_retries = 3;
  cfg.retry_backoff = 100ms;
  auto lm = seg::spawn_lock_manager(fx.sys, cfg);
  REQUIRE(lm);
  return fx.adopt(*lm);
}

} // namespace

TEST_CASE("lock manager: keys sorted, retried after a backoff, granted when free",
          "[actor]") {
  fixture fx;
  seg::test::temp_dir tmp;
  fs::create_directories(tmp.path / "a");
  fs::create_directories(tmp.path / "b");
  auto a = (tmp.path / "a").string(), b = (tmp.path / "b").string();
  auto zip = (tmp.path / "b" / "x.zip").string();
  auto one = spawn(fx), two = spawn(fx);

  auto first = ask_keys(fx, one, {zip, a});
  REQUIRE(*first);
  REQUIRE((*first)->granted);
  auto& got = *(*first)->granted;
  REQUIRE(got.size() == 2);
  CHECK(got[0].key == a); // sorted
  CHECK(got[1].key == zip);
  CHECK(fs::exists(tmp.path / "b" / ".x.zip.segflow.lock"));

  // Overlapping set: refused now, b is not left taken (all-or-nothing).
  auto second = ask_keys(fx, two, {b, zip});
  CHECK_FALSE(*second); // waiting for its retry
  CHECK_FALSE(fs::exists(tmp.path / "b" / seg::lease_file_name));
  // The holder lets go; the retry after the backoff gets both.
  for (auto& l : got)
    CHECK(*fx.ask<bool>(one, seg::atom::release::value, l));
  fx.advance(200ms);
  REQUIRE(*second);
  REQUIRE((*second)->granted);
  CHECK((*second)->granted->size() == 2);

  // Bounded: a key that stays held fails after the retries.
  auto third = ask_keys(fx, one, {a, b});
  for (int i = 0; i < 10 && !*third; ++i)
    fx.advance(2s);
  REQUIRE(*third);
  CHECK_FALSE((*third)->granted);
  CHECK(seg::code_of((*third)->error) == seg::ec::lease_held);
  CHECK(fs::exists(tmp.path / "a" / seg::lease_file_name) == false); // a given back
}

TEST_CASE("lock manager: an indefinite lock is refused at once and never swept",
          "[actor]") {
  fixture fx;
  seg::test::temp_dir tmp;
  auto key = tmp.path.string();
  pid_t dead = ::fork();
  REQUIRE(dead >= 0);
  if (dead == 0)
    ::_exit(0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  seg::io::lease_info held;
  held.held.key = key;
  held.held.token = "feedfeedfeedfeedfeedfeedfeedfeed";
  held.held.pid = dead; // its holder is dead: an ordinary lease would be taken over
  held.held.host = seg::io::host_name();
  held.held.since_unix_ms = held.held.expires_unix_ms = seg::io::unix_ms_now() - 100000;
  held.op = "op-20261202T000000000Z-abc";
  held.indefinite = true;
  REQUIRE(seg::io::take_lease(held, 30s, held.held.host, "key", "test").what
          == seg::io::take_result::taken);

  auto lm = spawn(fx);
  auto r = ask_keys(fx, lm, {key});
  REQUIRE(*r); // no retry: waiting does not clear it
  CHECK_FALSE((*r)->granted);
  CHECK(seg::code_of((*r)->error) == seg::ec::lease_held);
  CHECK(seg::error_text((*r)->error).find("segflow ops recover " + held.op)
        != std::string::npos);
  CHECK(seg::release_dead_leases({key}) == 0);
  auto still = seg::io::read_lease(key, /*indefinite=*/true);
  REQUIRE(still);
  CHECK(still->indefinite);
  CHECK(still->op == held.op);
  CHECK_FALSE(seg::io::read_lease(key)); // its own file, not the lease's
  // A value-matched release by its operation removes it.
  CHECK_FALSE(seg::io::give_back_lease(held.held, "test")); // no lease of that token
  CHECK(seg::io::give_back_lease(held.held, "test", /*indefinite=*/true));
  CHECK_FALSE(fs::exists(seg::io::lease_file_of(key, /*indefinite=*/true)));
}
