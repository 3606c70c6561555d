// The lock manager on the deterministic scheduler, with real lease files in
// temporary folders: renewal runs when the test moves the clock. Other
// holders are simulated by writing lease files by hand (the file format is
// the contract between processes) and, once, by a second process: the
// lock_holder helper program (tests/tools/lock_holder.cpp).

#include "actors/lock_manager.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <caf/exit_reason.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/actors/fixture.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using seg::test::fixture;

using seg::test::temp_dir;

std::string this_host() {
  std::array<char, 256> buf{};
  REQUIRE(::gethostname(buf.data(), buf.size() - 1) == 0);
  return buf.data();
}

/// A time as the lease file writes it, computed here independently:
/// whole seconds, UTC, ".000Z".
std::string iso_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out{file, std::ios::binary | std::ios::trunc};
  out << text;
  REQUIRE(out.good());
}

std::string read_text(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json(const fs::path& file) {
  return nlohmann::json::parse(read_text(file));
}

void write_lease(const fs::path& dir, const std::string& token, std::int64_t pid,
                 const std::string& host, std::time_t since, std::time_t expires) {
  nlohmann::json j{{"token", token},
                   {"pid", pid},
                   {"host", host},
                   {"since", iso_utc(since)},
                   {"expires", iso_utc(expires)}};
  write_text(dir / seg::lease_file_name, j.dump());
}

/// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0)
    ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return pid;
}

/// A child process that sleeps until killed.
struct sleeping_child {
  pid_t pid = -1;
  sleeping_child() {
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      for (;;)
        ::pause();
    }
  }
  void kill() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~sleeping_child() {
    kill();
  }
};

struct outcome {
  std::optional<seg::lease> granted;
  std::string error; ///< error_text of the refusal
  std::string rendered;
  std::optional<seg::ec> code; ///< the refusal's code
};

outcome acquire(fixture& fx, const seg::lock_manager_actor& lm, const fs::path& dir) {
  outcome out;
  auto r = fx.ask<seg::lease>(lm, seg::atom::acquire::value, dir.string());
  if (r) {
    out.granted = std::move(*r);
  } else {
    out.error = seg::error_text(r.error());
    out.rendered = fx.sys.render(r.error());
    out.code = seg::code_of(r.error());
  }
  return out;
}

std::optional<bool> release(fixture& fx, const seg::lock_manager_actor& lm,
                            const seg::lease& l) {
  auto r = fx.ask<bool>(lm, seg::atom::release::value, l);
  if (!r)
    FAIL("release failed: " << fx.sys.render(r.error()));
  return *r;
}

seg::lock_manager_actor spawn(fixture& fx, seg::lock_manager_config cfg = {}) {
  auto lm = seg::spawn_lock_manager(fx.sys, cfg);
  REQUIRE(lm);
  return fx.adopt(*lm);
}

void stop(fixture& fx, const seg::lock_manager_actor& lm) {
  auto down = fx.watch(lm);
  caf::anon_send_exit(lm, caf::exit_reason::user_shutdown);
  fx.run();
  REQUIRE(down->has_value());
}

std::string expected_refusal(const fs::path& dir, long pid, const std::string& host,
                             const std::string& since) {
  return "acquisition " + dir.string() + " is being segmented by pid "
         + std::to_string(pid) + " on " + host + " since " + since;
}

} // namespace

TEST_CASE("lock manager: one holder, value-matched release", "[actor]") {
  fixture fx;
  temp_dir tmp;
  auto lm = spawn(fx);
  auto file = tmp.path / seg::lease_file_name;

  auto first = acquire(fx, lm, tmp.path);
  REQUIRE(first.granted);
  auto l = *first.granted;
  CHECK(l.key == tmp.path.string());
  CHECK(l.pid == ::getpid());
  CHECK(l.host == this_host());
  CHECK(l.token.size() == 32);
  CHECK(l.expires_unix_ms - l.since_unix_ms == 30000);
  REQUIRE(fs::exists(file));
  auto j = read_json(file);
  CHECK(j.at("token") == l.token);
  CHECK(j.at("pid") == l.pid);
  CHECK(j.at("host") == l.host);

  // The same key again, by the same actor: refused, naming the holder.
  auto second = acquire(fx, lm, tmp.path);
  CHECK_FALSE(second.granted);
  CHECK(second.error
        == expected_refusal(tmp.path, ::getpid(), this_host(),
                            j.at("since").get<std::string>()));
  CHECK(second.rendered.find(second.error) != std::string::npos);
  CHECK(second.code == seg::ec::lease_held);

  // Another lock manager (another holder in this live process): refused.
  auto other = spawn(fx);
  auto third = acquire(fx, other, tmp.path);
  CHECK_FALSE(third.granted);
  CHECK(third.error == second.error);
  CHECK(third.code == seg::ec::lease_held);

  auto before = read_text(file);
  auto wrong = l;
  wrong.token = "0123456789abcdef0123456789abcdef";
  CHECK(release(fx, lm, wrong) == false);
  CHECK(read_text(file) == before);

  CHECK(release(fx, lm, l) == true);
  CHECK_FALSE(fs::exists(file));
  CHECK(release(fx, lm, l) == false);

  // Free again: the other manager gets it.
  auto again = acquire(fx, other, tmp.path);
  REQUIRE(again.granted);
  CHECK(again.granted->token != l.token);
  stop(fx, other);
  CHECK_FALSE(fs::exists(file));
  stop(fx, lm);
  // Nothing but the lease file was ever created in the folder.
  CHECK(fs::is_empty(tmp.path));
}

TEST_CASE("lock manager: stale leases are taken over, live ones are not",
          "[actor]") {
  fixture fx;
  temp_dir tmp;
  seg::lock_manager_config cfg;
  cfg.host = "segflow-test-host";
  auto lm = spawn(fx, cfg);
  auto file = tmp.path / seg::lease_file_name;
  auto now = std::time(nullptr);

  SECTION("dead pid on this host, not expired: taken over") {
    write_lease(tmp.path, "dead-holder", dead_pid(), cfg.host, now - 60, now + 3600);
    auto r = acquire(fx, lm, tmp.path);
    REQUIRE(r.granted);
    CHECK(read_json(file).at("token") == r.granted->token);
  }
  SECTION("expired lease of another host: taken over") {
    write_lease(tmp.path, "expired", 1, "elsewhere", now - 7200, now - 3600);
    auto r = acquire(fx, lm, tmp.path);
    REQUIRE(r.granted);
    CHECK(read_json(file).at("token") == r.granted->token);
  }
  SECTION("dead pid on another host, not expired: refused (its pid is not ours "
          "to check)") {
    auto pid = dead_pid();
    write_lease(tmp.path, "remote", pid, "elsewhere", now - 60, now + 3600);
    auto r = acquire(fx, lm, tmp.path);
    CHECK_FALSE(r.granted);
    CHECK(r.error == expected_refusal(tmp.path, pid, "elsewhere", iso_utc(now - 60)));
    CHECK(read_json(file).at("token") == "remote");
  }
  SECTION("live process on this host: refused; once it is dead, taken over") {
    sleeping_child child;
    write_lease(tmp.path, "live", child.pid, cfg.host, now - 5, now + 3600);
    auto r = acquire(fx, lm, tmp.path);
    CHECK_FALSE(r.granted);
    CHECK(r.error == expected_refusal(tmp.path, child.pid, cfg.host, iso_utc(now - 5)));
    CHECK(read_json(file).at("token") == "live");
    child.kill();
    auto r2 = acquire(fx, lm, tmp.path);
    REQUIRE(r2.granted);
    CHECK(read_json(file).at("token") == r2.granted->token);
  }
  SECTION("incomplete lease file: refused while young, taken over when old") {
    write_text(file, "{\"token\":");
    auto r = acquire(fx, lm, tmp.path);
    CHECK_FALSE(r.granted);
    CHECK(r.error.find("being locked by another process") != std::string::npos);
    fs::last_write_time(file, fs::file_time_type::clock::now() - 1h);
    auto r2 = acquire(fx, lm, tmp.path);
    REQUIRE(r2.granted);
    CHECK(read_json(file).at("token") == r2.granted->token);
  }
  stop(fx, lm);
  // Takeovers leave no claim files behind.
  for (auto& entry : fs::directory_iterator{tmp.path})
    CHECK(entry.path().filename() == seg::lease_file_name);
}

TEST_CASE("lock manager: renewal moves expires forward and keeps others out",
          "[actor]") {
  fixture fx;
  temp_dir tmp;
  seg::lock_manager_config cfg;
  cfg.lease_duration = 200s;
  cfg.renew_interval = 50s;
  auto lm = spawn(fx, cfg);
  auto file = tmp.path / seg::lease_file_name;
  auto r = acquire(fx, lm, tmp.path);
  REQUIRE(r.granted);
  // As if the lease had not been renewed for a long time: expired an hour
  // ago. Without renewal another manager would take it over.
  auto now = std::time(nullptr);
  auto& l = *r.granted;
  auto since = read_json(file).at("since");
  write_lease(tmp.path, l.token, l.pid, l.host, now - 7200, now - 3600);
  auto stale = read_text(file);
  fx.advance(cfg.renew_interval - 1ms);
  CHECK(read_text(file) == stale); // not due yet
  fx.advance(1ms);
  auto j = read_json(file);
  CHECK(j.at("token") == l.token);
  // Same-format ISO 8601 UTC times compare like the times they denote.
  CHECK(j.at("expires").get<std::string>() >= iso_utc(now + 199));
  CHECK(j.at("since") == since); // renewal moves only expires
  auto other = spawn(fx, cfg);
  auto r2 = acquire(fx, other, tmp.path);
  CHECK_FALSE(r2.granted);
  CHECK(r2.error.find("being segmented by pid " + std::to_string(::getpid()))
        != std::string::npos);
  // Renewal goes on at every interval.
  write_lease(tmp.path, l.token, l.pid, l.host, now - 7200, now - 3600);
  fx.advance(cfg.renew_interval);
  CHECK(read_json(file).at("expires").get<std::string>() >= iso_utc(now + 199));
  stop(fx, other);
  stop(fx, lm);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("lock manager: a lease taken over is dropped at renewal", "[actor]") {
  fixture fx;
  temp_dir tmp;
  seg::lock_manager_config cfg;
  cfg.lease_duration = 200ms;
  cfg.renew_interval = 50ms;
  auto lm = spawn(fx, cfg);
  auto file = tmp.path / seg::lease_file_name;
  auto r = acquire(fx, lm, tmp.path);
  REQUIRE(r.granted);
  // Someone else's lease replaces ours; it is expired so that a new acquire
  // can take it over, which the manager only tries if it dropped its own.
  auto now = std::time(nullptr);
  write_lease(tmp.path, "intruder", 1, "elsewhere", now - 7200, now - 3600);
  // Before the renewal the manager still counts it as its own.
  CHECK_THAT(acquire(fx, lm, tmp.path).error, Catch::Contains("being segmented by pid"));
  fx.advance(cfg.renew_interval);
  // Renewal did not overwrite the other lease...
  CHECK(read_json(file).at("token") == "intruder");
  // ...and forgot its own: acquiring again is not refused as "already held".
  auto r2 = acquire(fx, lm, tmp.path);
  REQUIRE(r2.granted);
  CHECK(read_json(file).at("token") == r2.granted->token);
  // The old lease releases nothing.
  CHECK(release(fx, lm, *r.granted) == false);
  CHECK(read_json(file).at("token") == r2.granted->token);
  stop(fx, lm);
}

TEST_CASE("lock manager: exit releases every held lease", "[actor]") {
  fixture fx;
  temp_dir a;
  temp_dir b;
  auto lm = spawn(fx);
  REQUIRE(acquire(fx, lm, a.path).granted);
  REQUIRE(acquire(fx, lm, b.path).granted);
  CHECK(fs::exists(a.path / seg::lease_file_name));
  CHECK(fs::exists(b.path / seg::lease_file_name));
  stop(fx, lm);
  CHECK_FALSE(fs::exists(a.path / seg::lease_file_name));
  CHECK_FALSE(fs::exists(b.path / seg::lease_file_name));
}

TEST_CASE("lock manager: bad folders and settings are errors", "[actor]") {
  fixture fx;
  temp_dir tmp;
  auto lm = spawn(fx);
  auto missing = tmp.path / "missing";
  auto r = acquire(fx, lm, missing);
  CHECK_FALSE(r.granted);
  CHECK(r.error.find(missing.string()) != std::string::npos);
  CHECK(r.code == seg::ec::lock_failed);
  write_text(tmp.path / "plain", "x");
  auto r2 = acquire(fx, lm, tmp.path / "plain");
  CHECK_FALSE(r2.granted);
  CHECK(r2.error.find("not a folder") != std::string::npos);
  stop(fx, lm);

  seg::lock_manager_config bad;
  bad.renew_interval = bad.lease_duration;
  CHECK_FALSE(seg::spawn_lock_manager(fx.sys, bad));
  bad.renew_interval = 0ms;
  CHECK(seg::validate(bad));
  CHECK_FALSE(seg::validate(seg::lock_manager_config{}));
}

/// The lock_holder helper, its standard input and output on pipes.
struct lock_holder {
  pid_t pid = -1;
  std::FILE* out = nullptr; ///< its standard output
  int in = -1;              ///< its standard input

  explicit lock_holder(const fs::path& folder) {
    int to_child[2];
    int from_child[2];
    REQUIRE(::pipe2(to_child, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from_child, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    std::string exe = SEGFLOW_LOCK_HOLDER;
    std::string arg = folder.string();
    std::vector<char*> argv{exe.data(), arg.data(), nullptr};
    int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    in = to_child[1];
    out = ::fdopen(from_child[0], "r");
    REQUIRE(rc == 0);
    REQUIRE(out != nullptr);
  }

  /// Its answer, "held" or "refused: WHY", past its log lines (blocks
  /// until it has written it, or exited: "").
  std::string answer() {
    char buf[4096] = {};
    while (std::fgets(buf, sizeof buf, out) != nullptr) {
      std::string line = buf;
      if (!line.empty() && line.back() == '\n')
        line.pop_back();
      if (line == "held" || line.rfind("refused:", 0) == 0)
        return line;
    }
    return "";
  }

  /// Lets it release and exit; returns its exit status (blocks until then).
  int finish() {
    if (in >= 0)
      ::close(in);
    in = -1;
    int status = -1;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = -1;
    return status;
  }

  ~lock_holder() {
    if (in >= 0)
      ::close(in);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out != nullptr)
      std::fclose(out);
  }
};

TEST_CASE("lock manager: a lease held by another process is refused", "[actor]") {
  temp_dir acq;
  lock_holder holder(acq.path);
  REQUIRE(holder.answer() == "held");

  fixture fx;
  auto lm = spawn(fx);
  auto r = acquire(fx, lm, acq.path);
  CHECK_FALSE(r.granted);
  auto since = read_json(acq.path / seg::lease_file_name).at("since").get<std::string>();
  CHECK(r.error == expected_refusal(acq.path, holder.pid, this_host(), since));

  int status = holder.finish();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The holder released its lease on exit: free for us.
  CHECK_FALSE(fs::exists(acq.path / seg::lease_file_name));
  auto r2 = acquire(fx, lm, acq.path);
  CHECK(r2.granted);
  stop(fx, lm);
}

TEST_CASE("lock manager: a lease records its folder, and found in another, it is stale",
          "[actor]") {
  fixture fx;
  temp_dir tmp;
  auto a = tmp.path / "a";
  fs::create_directories(a);
  auto lm = spawn(fx);
  auto held = acquire(fx, lm, a);
  REQUIRE(held.granted);
  CHECK(read_json(a / seg::lease_file_name)["path"] == fs::canonical(a).string());

  // Renamed while locked: the live lease moved along, but it is for a/.
  auto b = tmp.path / "b";
  fs::rename(a, b);
  auto other = spawn(fx);
  auto taken = acquire(fx, other, b);
  REQUIRE(taken.granted);
  CHECK(read_json(b / seg::lease_file_name)["path"] == fs::canonical(b).string());
  // In the folder it was taken for, a live lease is still refused.
  auto c = tmp.path / "c";
  fs::create_directories(c);
  REQUIRE(acquire(fx, other, c).granted);
  auto third = spawn(fx);
  CHECK_FALSE(acquire(fx, third, c).granted);
}

TEST_CASE("release_dead_leases removes only the leases of dead pids on this host",
          "[actor]") {
  temp_dir tmp;
  auto now = std::time(nullptr);
  std::vector<std::string> folders;
  for (auto name : {"dead", "alive", "other-host", "none"}) {
    fs::create_directories(tmp.path / name);
    folders.push_back((tmp.path / name).string());
  }
  write_lease(tmp.path / "dead", "t1", dead_pid(), this_host(), now, now + 3600);
  write_lease(tmp.path / "alive", "t2", ::getpid(), this_host(), now, now + 3600);
  write_lease(tmp.path / "other-host", "t3", dead_pid(), "elsewhere", now, now + 3600);
  CHECK(seg::release_dead_leases(folders) == 1);
  CHECK_FALSE(fs::exists(tmp.path / "dead" / seg::lease_file_name));
  CHECK(fs::exists(tmp.path / "alive" / seg::lease_file_name));
  CHECK(fs::exists(tmp.path / "other-host" / seg::lease_file_name));
}
