#include "actors/io/lease_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/atomic_file.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/json_depth.hpp"
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

namespace seg::io {

namespace fs = std::filesystem;

namespace {

/// What utc_iso_ms writes, or a number of unix milliseconds.
std::optional<std::int64_t> parse_time(const nlohmann::json& j) {
  if (j.is_number_integer())
    return j.get<std::int64_t>();
  if (!j.is_string())
    return std::nullopt;
  return parse_utc_iso_ms(j.get_ref<const std::string&>());
}

/// The key a lease file says it was taken for ("path"); empty if it does
/// not say (files of older versions).
std::string lease_path(const std::string& text) {
  if (!json_depth_within(text))
    return {};
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object())
    if (auto p = j.find("path"); p != j.end() && p->is_string())
      return p->get<std::string>();
  return {};
}

std::string holder_text(const lease_info& l, const std::string& label) {
  auto text = label + " " + l.held.key + " is being segmented by pid "
              + std::to_string(l.held.pid) + " on " + l.held.host + " since "
              + utc_iso_ms(l.held.since_unix_ms);
  if (l.indefinite)
    text += " (operation " + l.op + " did not finish its export: see `segflow ops stuck`, "
            "then `segflow ops recover " + l.op + "`)";
  return text;
}

enum class removal { removed, changed, gone, failed };

/// Removes `file` if it is still the version `seen`, see the comment at the top.
removal remove_if_unchanged(const fs::path& file, const file_snapshot& seen,
                            const std::string& tag, std::string& error) {
  auto claim = file;
  claim += ".claim-" + random_token();
  if (::rename(file.c_str(), claim.c_str()) != 0) {
    if (errno == ENOENT)
      return removal::gone;
    error = "cannot rename " + file.string() + ": " + std::strerror(errno);
    return removal::failed;
  }
  auto moved = snapshot_file(claim);
  if (same_version(moved, seen)) {
    ::unlink(claim.c_str());
    return removal::removed;
  }
  if (int err = rename_no_replace(claim, file); err != 0) {
    spdlog::warn("lease_restore_failed {} file={} error=\"{}\"", tag, file.string(),
                 std::strerror(err));
    ::unlink(claim.c_str());
  }
  return removal::changed;
}

/// Whether the lease file `snap` of `key` may be taken over: empty if so
/// (`reason` says why), else the refusal.
std::optional<take_result> judge(const file_snapshot& snap, const std::string& key,
                                 std::chrono::milliseconds lease_duration,
                                 const std::string& host, const std::string& label,
                                 std::string& reason) {
  auto now = unix_ms_now();
  if (auto l = parse_lease_file(snap.bytes, key)) {
    if (l->indefinite)
      return take_result{take_result::held, holder_text(*l, label), l->op};
    if (l->held.expires_unix_ms < now) {
      reason = "expired " + utc_iso_ms(l->held.expires_unix_ms) + ", held by pid "
               + std::to_string(l->held.pid) + " on " + l->held.host;
      return std::nullopt;
    }
    if (l->held.host == host && !shm::process_alive(l->held.pid)) {
      reason = "holder pid " + std::to_string(l->held.pid) + " on " + l->held.host
               + " is dead";
      return std::nullopt;
    }
    // A folder renamed (or moved) while locked carries its holder's lease
    // along; the holder still works on the old path, not on this one.
    if (auto taken_for = lease_path(snap.bytes); !taken_for.empty() && taken_for != key) {
      reason = "taken for " + taken_for + ", not for this folder (renamed while locked)";
      return std::nullopt;
    }
    return take_result{take_result::held, holder_text(*l, label), {}};
  }
  auto mtime_ms = static_cast<std::int64_t>(snap.mtime.tv_sec) * 1000
                  + snap.mtime.tv_nsec / 1000000;
  if (mtime_ms + lease_duration.count() < now) {
    reason = "unreadable lease file last written " + utc_iso_ms(mtime_ms);
    return std::nullopt;
  }
  return take_result{take_result::held,
                     label + " " + key
                       + " is being locked by another process (its lease file is "
                         "incomplete)",
                     {}};
}

take_result failure(std::string text) {
  return take_result{take_result::failed, std::move(text), {}};
}

} // namespace

fs::path lease_file_of(const std::string& key, bool indefinite) {
  fs::path p{key};
  const char* name = indefinite ? indefinite_lock_file_name : lease_file_name;
  std::error_code ec;
  if (fs::is_directory(p, ec))
    return p / name;
  return p.parent_path() / ("." + p.filename().string() + name);
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string random_token() {
  std::random_device rd;
  std::array<char, 33> buf{};
  for (int i = 0; i < 4; ++i)
    std::snprintf(buf.data() + 8 * i, 9, "%08" PRIx32, static_cast<std::uint32_t>(rd()));
  return buf.data();
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0)
    return "localhost";
  return buf.data();
}

std::string lease_file_text(const lease_info& info) {
  auto& l = info.held;
  nlohmann::json j{{"token", l.token},
                   {"pid", l.pid},
                   {"host", l.host},
                   {"since", utc_iso_ms(l.since_unix_ms)},
                   {"expires", utc_iso_ms(l.expires_unix_ms)},
                   {"path", l.key}};
  if (!info.op.empty())
    j["op"] = info.op;
  if (info.indefinite)
    j["indefinite"] = true;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<lease_info> parse_lease_file(const std::string& text, const std::string& key) {
  if (!json_depth_within(text))
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
  lease_info info;
  auto& l = info.held;
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
  if (auto op = j.find("op"); op != j.end() && op->is_string())
    info.op = op->get<std::string>();
  if (auto ind = j.find("indefinite"); ind != j.end() && ind->is_boolean())
    info.indefinite = ind->get<bool>();
  return info;
}

std::optional<lease_info> read_lease(const std::string& key, bool indefinite) {
  auto snap = snapshot_file(lease_file_of(key, indefinite));
  if (snap.error != 0)
    return std::nullopt;
  return parse_lease_file(snap.bytes, key);
}

take_result take_lease(const lease_info& l, std::chrono::milliseconds lease_duration,
                       const std::string& host, const std::string& label,
                       const std::string& tag) {
  auto& key = l.held.key;
  auto file = lease_file_of(key, l.indefinite);
  // A key under an indefinite lock is leased only by that lock's operation
  // (its recovery).
  if (!l.indefinite)
    if (auto lock = read_lease(key, true);
        lock && lock->indefinite && (l.op.empty() || lock->op != l.op))
      return take_result{take_result::held, holder_text(*lock, label), lock->op};
  // Each round either creates the file or removes a stale one; a file that
  // changes between judging and removing is judged again.
  for (int round = 0; round < 8; ++round) {
    int err = create_exclusive(file, lease_file_text(l));
    if (err == 0)
      return take_result{take_result::taken, {}, {}};
    if (err != EEXIST)
      return failure("cannot lock " + label + " " + key + ": cannot create " + file.string()
                     + ": " + std::strerror(err));
    auto snap = snapshot_file(file);
    if (snap.error == ENOENT)
      continue;
    if (snap.error != 0)
      return failure("cannot lock " + label + " " + key + ": cannot read " + file.string()
                     + ": " + std::strerror(snap.error));
    std::string reason;
    if (auto refusal = judge(snap, key, lease_duration, host, label, reason))
      return *refusal;
    spdlog::warn("lease_takeover {} key={} reason=\"{}\"", tag, key, reason);
    std::string error;
    if (remove_if_unchanged(file, snap, tag, error) == removal::failed)
      return failure(error);
  }
  return failure("cannot lock " + label + " " + key + ": its lease file " + file.string()
                 + " keeps changing");
}

bool give_back_lease(const lease& l, const std::string& tag, bool indefinite) {
  auto file = lease_file_of(l.key, indefinite);
  auto snap = snapshot_file(file);
  if (snap.error != 0)
    return false;
  auto current = parse_lease_file(snap.bytes, l.key);
  if (!current || current->held.token != l.token)
    return false;
  std::string error;
  auto removed = remove_if_unchanged(file, snap, tag, error);
  if (removed == removal::failed)
    spdlog::warn("lease_release_failed {} key={} error=\"{}\"", tag, l.key, error);
  return removed == removal::removed;
}

renewal renew_lease(lease_info& l, std::chrono::milliseconds lease_duration,
                    const std::string& tag) {
  auto& key = l.held.key;
  auto file = lease_file_of(key);
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      spdlog::warn("lease_lost {} key={} reason=\"lease file removed\"", tag, key);
      return renewal::lost;
    }
    spdlog::warn("lease_renew_failed {} key={} error=\"{}\"", tag, key, std::strerror(errno));
    return renewal::kept;
  }
  auto snap = snapshot_file(fd);
  auto current = snap.error == 0 ? parse_lease_file(snap.bytes, key) : std::nullopt;
  if (!current || current->held.token != l.held.token) {
    ::close(fd);
    spdlog::warn("lease_lost {} key={} reason=\"taken over{}\"", tag, key,
                 current ? " by pid " + std::to_string(current->held.pid) + " on "
                             + current->held.host
                         : std::string{});
    return renewal::lost;
  }
  auto now = unix_ms_now();
  if (l.held.expires_unix_ms < now)
    spdlog::warn("lease_renewed_late {} key={} expired={}", tag, key,
                 utc_iso_ms(l.held.expires_unix_ms));
  auto renewed = l;
  renewed.held.expires_unix_ms = now + lease_duration.count();
  auto text = lease_file_text(renewed);
  int err = write_all_at(fd, text);
  if (err == 0 && ::ftruncate(fd, static_cast<off_t>(text.size())) != 0)
    err = errno;
  ::close(fd);
  if (err != 0) {
    spdlog::warn("lease_renew_failed {} key={} error=\"{}\"", tag, key, std::strerror(err));
    return renewal::kept;
  }
  l = renewed;
  spdlog::debug("lease_renewed {} key={} expires={}", tag, key,
                utc_iso_ms(l.held.expires_unix_ms));
  return renewal::renewed;
}

take_all_result take_leases(std::vector<std::string> keys, const lease_info& prototype,
                            std::chrono::milliseconds lease_duration,
                            const std::string& tag) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  take_all_result out;
  for (auto& key : keys) {
    auto l = prototype;
    l.held.key = key;
    l.held.token = random_token();
    auto r = take_lease(l, lease_duration, prototype.held.host, "key", tag);
    if (r.what != take_result::taken) {
      for (auto i = out.taken.rbegin(); i != out.taken.rend(); ++i)
        give_back_lease(i->held, tag);
      out.taken.clear();
      out.refusal = std::move(r);
      return out;
    }
    out.taken.push_back(std::move(l));
  }
  out.refusal.what = take_result::taken;
  return out;
}

std::size_t release_dead_leases(const std::vector<std::string>& keys, std::string host) {
  if (host.empty())
    host = host_name();
  std::size_t released = 0;
  for (auto& k : keys) {
    std::error_code ec;
    auto canonical = fs::canonical(k, ec);
    if (ec)
      continue;
    auto key = canonical.string();
    auto file = lease_file_of(key);
    auto snap = snapshot_file(file);
    if (snap.error != 0)
      continue;
    auto l = parse_lease_file(snap.bytes, key);
    if (!l || l->indefinite || l->held.host != host || shm::process_alive(l->held.pid))
      continue;
    std::string error;
    if (remove_if_unchanged(file, snap, "lock-manager", error) == removal::removed) {
      spdlog::info("lease_released_dead key={} pid={} since={}", key, l->held.pid,
                   utc_iso_ms(l->held.since_unix_ms));
      ++released;
    }
  }
  return released;
}

} // namespace seg::io
