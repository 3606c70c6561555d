// The lock manager on a real actor system, with real lease files in
// temporary folders. Other holders are simulated by writing lease files by
// hand (the file format is the contract between processes) and, once, by a
// second process: this binary re-run on the hidden test case below.

#include "actors/lock_manager.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/type_ids.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct test_config : caf::actor_system_config {
  test_config() {
    seg::register_message_types(*this);
    set("scheduler.max-threads", 2);
  }
};

struct fixture {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  /// Stopped at the end even if a REQUIRE failed: a manager holding leases
  /// keeps renewing, and the actor system would wait for it forever.
  std::vector<caf::actor> spawned;
  ~fixture() {
    for (auto& a : spawned)
      self->send_exit(a, caf::exit_reason::user_shutdown);
  }
};

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
  fx.self->request(lm, std::chrono::seconds(5), seg::atom::acquire::value, dir.string())
    .receive([&](seg::lease& l) { out.granted = std::move(l); },
             [&](caf::error& err) {
               out.error = seg::error_text(err);
               out.rendered = fx.sys.render(err);
               out.code = seg::code_of(err);
             });
  return out;
}

std::optional<bool> release(fixture& fx, const seg::lock_manager_actor& lm,
                            const seg::lease& l) {
  std::optional<bool> out;
  fx.self->request(lm, std::chrono::seconds(5), seg::atom::release::value, l)
    .receive([&](bool ok) { out = ok; },
             [&](caf::error& err) { FAIL("release failed: " << fx.sys.render(err)); });
  return out;
}

seg::lock_manager_actor spawn(fixture& fx, seg::lock_manager_config cfg = {}) {
  auto lm = seg::spawn_lock_manager(fx.sys, cfg);
  REQUIRE(lm);
  fx.spawned.push_back(caf::actor_cast<caf::actor>(*lm));
  return *lm;
}

void stop(fixture& fx, const seg::lock_manager_actor& lm) {
  fx.self->send_exit(lm, caf::exit_reason::user_shutdown);
  fx.self->wait_for(lm);
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
  cfg.lease_duration = 200ms;
  cfg.renew_interval = 50ms;
  auto lm = spawn(fx, cfg);
  auto file = tmp.path / seg::lease_file_name;
  auto r = acquire(fx, lm, tmp.path);
  REQUIRE(r.granted);
  auto expires0 = read_json(file).at("expires").get<std::string>();
  std::this_thread::sleep_for(500ms);
  auto j = read_json(file);
  // Same-format ISO 8601 UTC times compare like the times they denote.
  CHECK(j.at("expires").get<std::string>() > expires0);
  CHECK(j.at("token") == r.granted->token);
  // The original expiry has passed, yet the renewed lease still excludes.
  auto other = spawn(fx, cfg);
  auto r2 = acquire(fx, other, tmp.path);
  CHECK_FALSE(r2.granted);
  CHECK(r2.error.find("being segmented by pid " + std::to_string(::getpid()))
        != std::string::npos);
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
  std::this_thread::sleep_for(300ms);
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

// The other process of the next test: holds the lease on
// $SEGFLOW_LOCK_CHILD_DIR, says so by creating "$SEGFLOW_LOCK_CHILD_CTL/ready",
// and releases when "$SEGFLOW_LOCK_CHILD_CTL/stop" appears (or after 30 s).
TEST_CASE("lock manager child process", "[.lock_child]") {
  auto dir = std::getenv("SEGFLOW_LOCK_CHILD_DIR");
  auto ctl = std::getenv("SEGFLOW_LOCK_CHILD_CTL");
  if (dir == nullptr || ctl == nullptr)
    return;
  fixture fx;
  auto lm = spawn(fx);
  REQUIRE(acquire(fx, lm, dir).granted);
  write_text(fs::path{ctl} / "ready", "");
  for (int i = 0; i < 3000 && !fs::exists(fs::path{ctl} / "stop"); ++i)
    std::this_thread::sleep_for(10ms);
  stop(fx, lm);
}

TEST_CASE("lock manager: a lease held by another process is refused", "[actor]") {
  temp_dir acq;
  temp_dir ctl;
  std::vector<std::string> env_strings{"SEGFLOW_LOCK_CHILD_DIR=" + acq.path.string(),
                                       "SEGFLOW_LOCK_CHILD_CTL=" + ctl.path.string()};
  std::vector<char*> envp;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  for (char** e = environ; *e != nullptr; ++e)
    envp.push_back(*e);
  envp.push_back(nullptr);
  std::string self_exe = fs::read_symlink("/proc/self/exe").string();
  std::string test_name = "lock manager child process";
  std::string out_flag = "-o";
  std::string out_file = (ctl.path / "child.log").string();
  std::vector<char*> argv{self_exe.data(), test_name.data(), out_flag.data(),
                          out_file.data(), nullptr};
  pid_t child = -1;
  REQUIRE(::posix_spawn(&child, self_exe.c_str(), nullptr, nullptr, argv.data(),
                        envp.data())
          == 0);
  struct reaper {
    pid_t pid;
    ~reaper() {
      if (::waitpid(pid, nullptr, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reap{child};
  for (int i = 0; i < 2000 && !fs::exists(ctl.path / "ready"); ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(fs::exists(ctl.path / "ready"));

  fixture fx;
  auto lm = spawn(fx);
  auto r = acquire(fx, lm, acq.path);
  CHECK_FALSE(r.granted);
  auto since = read_json(acq.path / seg::lease_file_name).at("since").get<std::string>();
  CHECK(r.error == expected_refusal(acq.path, child, this_host(), since));

  write_text(ctl.path / "stop", "");
  int status = -1;
  for (int i = 0; i < 2000 && ::waitpid(child, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The child released its lease on exit: free for us.
  CHECK_FALSE(fs::exists(acq.path / seg::lease_file_name));
  auto r2 = acquire(fx, lm, acq.path);
  CHECK(r2.granted);
  stop(fx, lm);
}
