#pragma once

// The lock manager: leases on acquisition folders that exclude other threads,
// other processes and other hosts sharing the disk.
//
// A lease is the file `<folder>/.segflow.lock`, a JSON object
//   {"token":"<32 hex>","pid":1234,"host":"pi","since":"2025-09-11T16:51:00.618Z",
//    "expires":"2025-09-11T16:51:30.618Z","path":"/data/img/d/s/a"}
// (times in UTC, ISO 8601 with milliseconds). Whoever created the file holds
// the lease until it removes the file or stops renewing it: a lease whose
// `expires` has passed, whose holder is a dead pid on this host, or whose
// "path" is not the folder it is found in (the folder was renamed while
// locked), may be taken over by anyone.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/error.hpp"
#include "actors/interfaces.hpp"
#include "messages/lease.hpp"

namespace seg {

/// Name of the lease file inside a locked folder.
constexpr const char* lease_file_name = ".segflow.lock";

/// Settings of a lock manager.
struct lock_manager_config {
  /// How long a lease lasts without renewal; > 0.
  std::chrono::milliseconds lease_duration{30000};
  /// How often held leases are renewed; > 0 and < lease_duration.
  std::chrono::milliseconds renew_interval{10000};
  /// The host name written into leases; empty = gethostname().
  std::string host;
};

/// Returns the first problem of `cfg`, or a default-constructed error.
caf::error validate(const lock_manager_config& cfg);

/// State of a lock manager actor.
struct lock_manager_state {
  /// Settings, with `host` resolved.
  lock_manager_config cfg;
  /// Leases this actor holds, by canonical folder path.
  std::map<std::string, lease> held;
  /// True while a renew message is scheduled.
  bool renew_scheduled = false;
  /// "lock-manager#<actor id>", for log lines.
  std::string tag = "lock-manager";

  /// Releases every held lease (value-matched, so a lease taken over in the
  /// meantime is left alone).
  ~lock_manager_state();

  static inline const char* name = "lock-manager";
};

/// The lock manager's behaviour.
///
/// - acquire(folder): `folder` must exist; its canonical path is the lease
///   key. Replies with the lease (token, pid, host, since, expires in unix
///   ms) or fails with ec::lease_held whose text is such as "acquisition
///   /d/img/a is being segmented by pid 812 on pi since
///   2025-09-11T16:51:00.618Z" (see error_text); a key this actor already
///   holds is refused the same way. Any other failure (no such folder, I/O)
///   is ec::lock_failed naming the folder or file.
/// - release(lease): removes the lease file if its token equals the lease's
///   token and replies true; otherwise replies false and touches nothing.
/// - renew: rewrites `expires` of every held lease (sent to itself every
///   `renew_interval` while it holds leases); a lease whose file is gone or
///   carries another token is dropped with a warning.
/// On exit every held lease is released.
lock_manager_actor::behavior_type
lock_manager(lock_manager_actor::stateful_pointer<lock_manager_state> self,
             lock_manager_config cfg);

/// Validates `cfg` and spawns a lock manager. Stop it with send_exit (its
/// renew timer keeps it alive while it holds leases).
caf::expected<lock_manager_actor>
spawn_lock_manager(caf::actor_system& sys, const lock_manager_config& cfg);

/// Removes the lease files of `folders` whose holder is a dead pid on `host`
/// (empty: this host): a process killed between a job's end and its lease
/// release leaves one in a folder nothing revisits. Value-matched like a
/// takeover. Returns how many were removed.
std::size_t release_dead_leases(const std::vector<std::string>& folders,
                                std::string host = {});

} // namespace seg
