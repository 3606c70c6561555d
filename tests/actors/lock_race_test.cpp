// Eight operations race for overlapping key sets through eight lock managers
// (as eight processes would), a thousand rounds, on the deterministic
// scheduler with the messages of all of them dispatched in a random order
// and backoff timers fired as they fall due: every request ends (no
// deadlock), no key ever has two holders, and a refused request holds none
// of its keys (all-or-nothing). A second test races the same key sets from
// eight threads on the lease files themselves.

#include "actors/lock_manager.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "tests/actors/fixture.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using seg::test::fixture;

/// A folder on tmpfs: the race is about the protocol, not the disk.
struct shm_dir {
  fs::path path;
  shm_dir() {
    char templ[] = "/dev/shm/segflow-race-XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    path = templ;
  }
  ~shm_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Leases are logged at info; a million lines would only slow the race.
struct quiet_log {
  spdlog::level::level_enum was = spdlog::get_level();
  quiet_log() { spdlog::set_level(spdlog::level::warn); }
  ~quiet_log() { spdlog::set_level(was); }
};

/// Five folder keys and one file key (an archive path).
std::vector<std::string> make_keys(const fs::path& root) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    fs::create_directories(root / ("k" + std::to_string(i)));
    keys.push_back((root / ("k" + std::to_string(i))).string());
  }
  keys.push_back((root / "k0" / "archive.zip").string());
  return keys;
}

std::vector<std::string> pick(std::mt19937& rng, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  auto n = std::uniform_int_distribution<int>(2, 3)(rng);
  while (int(out.size()) < n) {
    auto& k = keys[std::uniform_int_distribution<std::size_t>(0, keys.size() - 1)(rng)];
    if (std::find(out.begin(), out.end(), k) == out.end())
      out.push_back(k);
  }
  // Unsorted on purpose: the lock manager sorts.
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

struct race_book {
  std::map<std::string, int> holder; ///< key -> operation holding it
  int violations = 0;                ///< a key granted while held
  int partial = 0;                   ///< a refused request left a key held by it
  int granted = 0, refused = 0, done = 0;
};

} // namespace

TEST_CASE("lock manager: 8 operations over overlapping keys, 1000 rounds", "[actor]") {
  quiet_log quiet;
  fixture fx;
  shm_dir tmp;
  auto keys = make_keys(tmp.path);
  std::mt19937 rng(20261202);
  auto book = std::make_shared<race_book>();
  seg::lock_manager_config cfg;
  cfg.acquire_retries = 4;
  cfg.retry_backoff = 10ms;
  std::vector<seg::lock_manager_actor> managers;
  for (int i = 0; i < 8; ++i) {
    auto lm = seg::spawn_lock_manager(fx.sys, cfg);
    REQUIRE(lm);
    managers.push_back(fx.adopt(*lm));
  }
  for (int round = 0; round < 1000; ++round) {
    book->done = 0;
    for (int op = 0; op < 8; ++op) {
      auto wanted = pick(rng, keys);
      auto hold_for = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(rng));
      auto lm = managers[op];
      fx.sys.spawn([=](caf::event_based_actor* self) {
        self->request(lm, caf::infinite, seg::atom::acquire::value, wanted)
          .then(
            [=](std::vector<seg::lease>& got) {
              ++book->granted;
              for (auto& l : got) {
                auto [it, fresh] = book->holder.emplace(l.key, op);
                if (!fresh)
                  ++book->violations;
                auto on_disk = seg::io::read_lease(l.key);
                if (!on_disk || on_disk->held.token != l.token)
                  ++book->violations;
              }
              self->delayed_send(self, hold_for, seg::atom::release::value);
              self->become([=](seg::atom::release) {
                for (auto& l : got) {
                  self->request(lm, caf::infinite, seg::atom::release::value, l)
                    .then([=](bool released) {
                      if (!released)
                        ++book->violations;
                      book->holder.erase(l.key);
                    });
                }
                ++book->done;
              });
            },
            [=](caf::error& err) {
              ++book->refused;
              ++book->done;
              CHECK(seg::code_of(err) == seg::ec::lease_held);
              // All-or-nothing: none of its keys is held by it now.
              for (auto& k : wanted)
                if (auto l = seg::io::read_lease(k); l && book->holder.count(l->held.key) == 0)
                  ++book->partial;
            });
      });
    }
    // Random interleaving; when every mailbox is empty, the next timer fires.
    for (;;) {
      if (!fx.sched.jobs.empty()) {
        auto i = std::uniform_int_distribution<std::size_t>(0, fx.sched.jobs.size() - 1)(rng);
        std::swap(fx.sched.jobs[0], fx.sched.jobs[i]);
        fx.sched.run_once();
      } else if (fx.sched.has_pending_timeout()) {
        fx.sched.trigger_timeout();
      } else {
        break;
      }
    }
    INFO("round " << round);
    REQUIRE(book->done == 8); // every request ended: no deadlock
    REQUIRE(book->violations == 0);
    REQUIRE(book->partial == 0);
    REQUIRE(book->holder.empty());
  }
  // Both outcomes happened: the keys did overlap.
  CHECK(book->granted > 1000);
  CHECK(book->refused > 0);
  for (auto& k : keys)
    CHECK_FALSE(fs::exists(seg::io::lease_file_of(k)));
}

TEST_CASE("lease files: 8 threads take overlapping key sets, sorted and all-or-nothing",
          "[actor]") {
  quiet_log quiet;
  shm_dir tmp;
  auto keys = make_keys(tmp.path);
  std::atomic<int> violations{0}, granted{0};
  std::vector<std::atomic<int>> holders(keys.size());
  auto index_of = [&](const std::string& k) {
    return std::size_t(std::find(keys.begin(), keys.end(), k) - keys.begin());
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      seg::io::lease_info proto;
      proto.held.pid = ::getpid();
      proto.held.host = seg::io::host_name();
      for (int round = 0; round < 1000; ++round) {
        auto wanted = pick(rng, keys);
        for (int attempt = 0;; ++attempt) {
          proto.held.since_unix_ms = seg::io::unix_ms_now();
          proto.held.expires_unix_ms = proto.held.since_unix_ms + 30000;
          auto r = seg::io::take_leases(wanted, proto, 30000ms, "race");
          if (r.refusal.what != seg::io::take_result::taken) {
            if (r.refusal.what == seg::io::take_result::failed)
              ++violations;
            std::this_thread::sleep_for(std::chrono::microseconds(10 << std::min(attempt, 6)));
            continue;
          }
          for (auto& l : r.taken)
            if (holders[index_of(l.held.key)]++ != 0)
              ++violations;
          ++granted;
          for (auto& l : r.taken) {
            --holders[index_of(l.held.key)];
            if (!seg::io::give_back_lease(l.held, "race"))
              ++violations;
          }
          break;
        }
      }
    });
  for (auto& th : threads)
    th.join(); // a deadlock would hang here (ctest's timeout fails it)
  CHECK(violations == 0);
  CHECK(granted == 8000);
  for (auto& k : keys)
    CHECK_FALSE(fs::exists(seg::io::lease_file_of(k)));
}
