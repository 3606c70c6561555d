#include "actors/lock_manager.hpp"
#include "actors/trace.hpp"
#include "actors/error.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/json_depth.hpp"

#include <array>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "shm/process.hpp"

// Why the lease file is safe against other processes:
//
// - Creation is atomic: open(O_CREAT | O_EXCL) succeeds for exactly one
//   contender. The JSON is written right after; a reader that finds the file
//   empty or incomplete treats it as "being acquired" while its mtime is
//   younger than a lease duration (and as stale afterwards).
// - Renewal rewrites the file in place, through a descriptor opened on the
//   file whose token was just checked, so a holder can never overwrite a
//   lease someone else created after taking its lease over.
// - Taking over a stale lease, and releasing one, never delete by name after
//   a check (the file could be replaced between check and unlink). Instead the
//   file is first renamed to a name private to this attempt, which moves one
//   particular inode and can succeed for only one contender; then the moved
//   file is compared with what was judged (inode, mtime and bytes). If it is
//   the same, it is deleted and the taker retries the O_EXCL creation, which
//   again only one contender wins. If it is not (another contender took the
//   stale lease over first, or the holder renewed it), it is put back with a
//   no-replace rename (or link(), which is atomic as well) and the taker
//   judges again.
// - Remaining window: if a third contender creates a lease in the
//   microseconds between such a move and its undo, the undo fails and the
//   moved lease's holder learns at its next renewal (file gone) that it lost
//   the lease. This needs three contenders racing for an expired lease.

namespace seg {

namespace {

namespace fs = std::filesystem;

using clock_type = std::chrono::system_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

/// What utc_iso_ms writes, or a number of unix milliseconds.
std::optional<std::int64_t> parse_time(const nlohmann::json& j) {
  if (j.is_number_integer())
    return j.get<std::int64_t>();
  if (!j.is_string())
    return std::nullopt;
  return io::parse_utc_iso_ms(j.get_ref<const std::string&>());
}

std::string to_file_text(const lease& l) {
  nlohmann::json j{{"token", l.token},
                   {"pid", l.pid},
                   {"host", l.host},
                   {"since", io::utc_iso_ms(l.since_unix_ms)},
                   {"expires", io::utc_iso_ms(l.expires_unix_ms)},
                   {"path", l.key}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

/// The lease in `text`, or nothing if it is not a complete lease file.
std::optional<lease> parse_lease(const std::string& text, const std::string& key) {
  if (!io::json_depth_within(text))
    return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  auto token = j.find("token");
  auto pid = j.find("pid");
  auto host = j.find("host");
  auto since = j.find("since");
  auto expires = j.find("expires");
  if (token == j.end() || !token->is_string() || pid == j.end()
      || !pid->is_number_integer() || host == j.end() || !host->is_string()
      || since == j.end() || expires == j.end())
    return std::nullopt;
  lease l;
  l.key = key;
  l.token = token->get<std::string>();
  l.pid = pid->get<std::int64_t>();
  l.host = host->get<std::string>();
  auto s = parse_time(*since);
  auto e = parse_time(*expires);
  // pid 0 or -1 would make kill() address process groups.
  if (!s || !e || l.pid <= 0 || l.pid > INT_MAX)
    return std::nullopt;
  l.since_unix_ms = *s;
  l.expires_unix_ms = *e;
  return l;
}

/// The folder a lease file says it was taken for ("path"); empty if it does
/// not say (files of older versions).
std::string lease_path(const std::string& text) {
  if (!io::json_depth_within(text))
    return {};
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object())
    if (auto p = j.find("path"); p != j.end() && p->is_string())
      return p->get<std::string>();
  return {};
}

std::string random_token() {
  std::random_device rd;
  std::array<char, 33> buf{};
  for (int i = 0; i < 4; ++i)
    std::snprintf(buf.data() + 8 * i, 9, "%08" PRIx32,
                  static_cast<std::uint32_t>(rd()));
  return buf.data();
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0)
    return "localhost";
  return buf.data();
}

// Refused: someone holds the lease.
caf::error held_error(std::string text) {
  return make_error(ec::lease_held, std::move(text));
}

// Failed for another reason: the lease could not be taken.
caf::error lock_error(std::string text) {
  return make_error(ec::lock_failed, std::move(text));
}

std::string holder_text(const lease& l) {
  return "acquisition " + l.key + " is being segmented by pid " + std::to_string(l.pid)
         + " on " + l.host + " since " + io::utc_iso_ms(l.since_unix_ms);
}

enum class removal { removed, changed, gone };

/// Removes `file` if it is still the version `seen`, see the comment at the top.
caf::expected<removal> remove_if_unchanged(const fs::path& file,
                                           const io::file_snapshot& seen,
                                           const std::string& tag) {
  auto claim = file;
  claim += ".claim-" + random_token();
  if (::rename(file.c_str(), claim.c_str()) != 0) {
    if (errno == ENOENT)
      return removal::gone;
    return lock_error("cannot rename " + file.string() + ": " + std::strerror(errno));
  }
  auto moved = io::snapshot_file(claim);
  if (io::same_version(moved, seen)) {
    ::unlink(claim.c_str());
    return removal::removed;
  }
  if (int err = io::rename_no_replace(claim, file); err != 0) {
    spdlog::warn("lease_restore_failed {} file={} error=\"{}\"", tag, file.string(),
                 std::strerror(err));
    ::unlink(claim.c_str());
  }
  return removal::changed;
}

/// Decides whether the lease file `snap` may be taken over; if not, returns
/// the error naming its holder.
caf::error judge(const io::file_snapshot& snap, const std::string& key,
                 const lock_manager_config& cfg, std::string& reason) {
  auto now = now_ms();
  if (auto l = parse_lease(snap.bytes, key)) {
    if (l->expires_unix_ms < now) {
      reason = "expired " + io::utc_iso_ms(l->expires_unix_ms) + ", held by pid "
               + std::to_string(l->pid) + " on " + l->host;
      return {};
    }
    if (l->host == cfg.host && !shm::process_alive(l->pid)) {
      reason = "holder pid " + std::to_string(l->pid) + " on " + l->host + " is dead";
      return {};
    }
    // A folder renamed (or moved) while locked carries its holder's lease
    // along; the holder still works on the old path, not on this one.
    if (auto taken_for = lease_path(snap.bytes); !taken_for.empty() && taken_for != key) {
      reason = "taken for " + taken_for + ", not for this folder (renamed while locked)";
      return {};
    }
    return held_error(holder_text(*l));
  }
  auto mtime_ms = static_cast<std::int64_t>(snap.mtime.tv_sec) * 1000
                  + snap.mtime.tv_nsec / 1000000;
  if (mtime_ms + cfg.lease_duration.count() < now) {
    reason = "unreadable lease file last written " + io::utc_iso_ms(mtime_ms);
    return {};
  }
  return held_error("acquisition " + key
                    + " is being locked by another process (its lease file is "
                      "incomplete)");
}

caf::expected<lease> acquire(lock_manager_state& st, const std::string& folder) {
  std::error_code ec;
  auto dir = fs::canonical(folder, ec);
  if (ec)
    return lock_error("cannot lock acquisition " + folder + ": " + ec.message());
  if (!fs::is_directory(dir, ec))
    return lock_error("cannot lock acquisition " + folder + ": not a folder");
  auto key = dir.string();
  if (auto i = st.held.find(key); i != st.held.end())
    return held_error(holder_text(i->second));
  auto file = dir / lease_file_name;
  // Each round either creates the file or removes a stale one; a file that
  // changes between judging and removing is judged again.
  for (int round = 0; round < 8; ++round) {
    lease l;
    l.key = key;
    l.token = random_token();
    l.pid = ::getpid();
    l.host = st.cfg.host;
    l.since_unix_ms = now_ms();
    l.expires_unix_ms = l.since_unix_ms + st.cfg.lease_duration.count();
    int err = io::create_exclusive(file, to_file_text(l));
    if (err == 0) {
      spdlog::info("lease_acquired {} key={} expires={}", st.tag, key,
                   io::utc_iso_ms(l.expires_unix_ms));
      st.held.emplace(key, l);
      return l;
    }
    if (err != EEXIST)
      return lock_error("cannot lock acquisition " + key + ": cannot create "
                        + file.string() + ": " + std::strerror(err));
    auto snap = io::snapshot_file(file);
    if (snap.error == ENOENT)
      continue;
    if (snap.error != 0)
      return lock_error("cannot lock acquisition " + key + ": cannot read "
                        + file.string() + ": " + std::strerror(snap.error));
    std::string reason;
    if (auto refusal = judge(snap, key, st.cfg, reason))
      return refusal;
    spdlog::warn("lease_takeover {} key={} reason=\"{}\"", st.tag, key, reason);
    auto removed = remove_if_unchanged(file, snap, st.tag);
    if (!removed)
      return std::move(removed.error());
  }
  return lock_error("cannot lock acquisition " + key + ": its lease file "
                    + file.string() + " keeps changing");
}

} // namespace

std::size_t release_dead_leases(const std::vector<std::string>& folders, std::string host) {
  if (host.empty())
    host = host_name();
  std::size_t released = 0;
  for (auto& folder : folders) {
    std::error_code ec;
    auto dir = fs::canonical(folder, ec);
    if (ec)
      continue;
    auto file = dir / lease_file_name;
    auto snap = io::snapshot_file(file);
    if (snap.error != 0)
      continue;
    auto l = parse_lease(snap.bytes, dir.string());
    if (!l || l->host != host || shm::process_alive(l->pid))
      continue;
    auto removed = remove_if_unchanged(file, snap, "lock-manager");
    if (removed && *removed == removal::removed) {
      spdlog::info("lease_released_dead key={} pid={} since={}", dir.string(), l->pid,
                   io::utc_iso_ms(l->since_unix_ms));
      ++released;
    }
  }
  return released;
}

namespace {

bool release(lock_manager_state& st, const lease& l) {
  std::error_code ec;
  auto dir = fs::canonical(l.key, ec);
  auto key = ec ? l.key : dir.string();
  if (auto i = st.held.find(key); i != st.held.end() && i->second.token == l.token)
    st.held.erase(i);
  auto file = fs::path{key} / lease_file_name;
  auto snap = io::snapshot_file(file);
  if (snap.error != 0)
    return false;
  auto current = parse_lease(snap.bytes, key);
  if (!current || current->token != l.token)
    return false;
  auto removed = remove_if_unchanged(file, snap, st.tag);
  if (!removed) {
    spdlog::warn("lease_release_failed {} key={} error=\"{}\"", st.tag, key,
                 error_text(removed.error()));
    return false;
  }
  if (*removed != removal::removed)
    return false;
  spdlog::info("lease_released {} key={}", st.tag, key);
  return true;
}

void release_all(lock_manager_state& st) {
  std::vector<lease> leases;
  for (auto& kv : st.held)
    leases.push_back(kv.second);
  for (auto& l : leases)
    release(st, l);
  st.held.clear();
}

/// Rewrites `expires` of the lease `l` in place; false if the lease is lost.
bool renew_one(lock_manager_state& st, lease& l) {
  auto file = fs::path{l.key} / lease_file_name;
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      spdlog::warn("lease_lost {} key={} reason=\"lease file removed\"", st.tag, l.key);
      return false;
    }
    // Keep the lease: the error may be transient, and it expires anyway.
    spdlog::warn("lease_renew_failed {} key={} error=\"{}\"", st.tag, l.key,
                 std::strerror(errno));
    return true;
  }
  auto snap = io::snapshot_file(fd);
  auto current = snap.error == 0 ? parse_lease(snap.bytes, l.key) : std::nullopt;
  if (!current || current->token != l.token) {
    ::close(fd);
    spdlog::warn("lease_lost {} key={} reason=\"taken over{}\"", st.tag, l.key,
                 current ? " by pid " + std::to_string(current->pid) + " on "
                             + current->host
                         : std::string{});
    return false;
  }
  auto now = now_ms();
  if (l.expires_unix_ms < now)
    spdlog::warn("lease_renewed_late {} key={} expired={}", st.tag, l.key,
                 io::utc_iso_ms(l.expires_unix_ms));
  auto renewed = l;
  renewed.expires_unix_ms = now + st.cfg.lease_duration.count();
  auto text = to_file_text(renewed);
  int err = io::write_all_at(fd, text);
  if (err == 0 && ::ftruncate(fd, static_cast<off_t>(text.size())) != 0)
    err = errno;
  ::close(fd);
  if (err != 0) {
    spdlog::warn("lease_renew_failed {} key={} error=\"{}\"", st.tag, l.key,
                 std::strerror(err));
    return true;
  }
  l = renewed;
  spdlog::debug("lease_renewed {} key={} expires={}", st.tag, l.key,
                io::utc_iso_ms(l.expires_unix_ms));
  return true;
}

void renew_all(lock_manager_state& st) {
  for (auto i = st.held.begin(); i != st.held.end();)
    if (renew_one(st, i->second))
      ++i;
    else
      i = st.held.erase(i);
}

} // namespace

lock_manager_state::~lock_manager_state() {
  try {
    release_all(*this);
  } catch (...) {
    // nop: leases left behind expire
  }
}

caf::error validate(const lock_manager_config& cfg) {
  if (cfg.lease_duration.count() <= 0)
    return caf::make_error(caf::sec::runtime_error,
                           "lock manager: lease_duration must be > 0");
  if (cfg.renew_interval.count() <= 0 || cfg.renew_interval >= cfg.lease_duration)
    return caf::make_error(caf::sec::runtime_error,
                           "lock manager: renew_interval must be > 0 and shorter than "
                           "lease_duration");
  return {};
}

lock_manager_actor::behavior_type
lock_manager(lock_manager_actor::stateful_pointer<lock_manager_state> self,
             lock_manager_config cfg) {
  if (cfg.host.empty())
    cfg.host = host_name();
  self->state.cfg = std::move(cfg);
  self->state.tag = "actor=lock-manager#" + std::to_string(self->id());
  auto schedule_renewal = [self] {
    auto& st = self->state;
    if (!st.held.empty() && !st.renew_scheduled) {
      self->delayed_send(self, st.cfg.renew_interval, atom::renew::value);
      st.renew_scheduled = true;
    }
  };
  self->set_exit_handler([self](caf::exit_msg& msg) {
    release_all(self->state);
    self->quit(msg.reason);
  });
  return trace::traced_all(self,
    [self, schedule_renewal](atom::acquire,
                             const std::string& folder) -> caf::result<lease> {
      auto l = acquire(self->state, folder);
      if (!l)
        return std::move(l.error());
      schedule_renewal();
      return std::move(*l);
    },
    [self](atom::release, const lease& l) -> bool {
      return release(self->state, l);
    },
    [self, schedule_renewal](atom::renew) {
      // Only our own timer message clears the flag, so a renew sent by
      // someone else does not start a second timer.
      if (self->current_sender() && self->current_sender().get() == self->ctrl())
        self->state.renew_scheduled = false;
      renew_all(self->state);
      schedule_renewal();
    });
}

caf::expected<lock_manager_actor>
spawn_lock_manager(caf::actor_system& sys, const lock_manager_config& cfg) {
  if (auto err = validate(cfg))
    return err;
  return sys.spawn(lock_manager, cfg);
}

} // namespace seg
