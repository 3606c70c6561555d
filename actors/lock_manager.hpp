#pragma once

// The lock manager: leases on keys (acquisition folders, output folders,
// archive paths) that exclude other threads, other processes and other hosts
// sharing the disk. The lease files and their rules are in
// actors/io/lease_file.hpp.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/error.hpp"
#include "actors/interfaces.hpp"
#include "actors/io/lease_file.hpp"
#include "messages/lease.hpp"

namespace seg {

/// The lease file primitives, under the names their users know.
using io::lease_file_name;
using io::release_dead_leases;

/// Settings of a lock manager.
struct lock_manager_config {
  /// How long a lease lasts without renewal; > 0.
  std::chrono::milliseconds lease_duration{30000};
  /// How often held leases are renewed; > 0 and < lease_duration.
  std::chrono::milliseconds renew_interval{10000};
  /// The host name written into leases; empty = gethostname().
  std::string host;
  /// A multi-key acquisition refused is retried this many times more ...
  std::uint32_t acquire_retries = 6;
  /// ... after a backoff that starts here and doubles (with jitter).
  std::chrono::milliseconds retry_backoff{50};
  /// The operation this process recovers (`ops recover`), if any: its leases
  /// name it, and keys under its own indefinite locks may be leased.
  std::string recovering;
};

/// A multi-key acquisition waiting for its next attempt.
struct pending_acquisition {
  std::vector<std::string> keys;      ///< canonical, sorted, unique
  std::uint32_t attempts = 0;         ///< made so far
  caf::typed_response_promise<std::vector<lease>> promise;
};

/// Returns the first problem of `cfg`, or a default-constructed error.
caf::error validate(const lock_manager_config& cfg);

/// State of a lock manager actor.
struct lock_manager_state {
  /// Settings, with `host` resolved.
  lock_manager_config cfg;
  /// Leases this actor holds, by canonical folder path.
  std::map<std::string, lease> held;
  /// Multi-key acquisitions waiting to retry, by attempt id.
  std::map<std::uint64_t, pending_acquisition> pending;
  std::uint64_t next_attempt = 1;
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
/// - acquire(keys): every key canonical (its folder, or for a file its
///   parent folder, must exist), taken in ascending order; a refusal gives
///   back what this attempt took and is retried up to `acquire_retries`
///   times after a growing backoff, then fails as acquire(folder) does. An
///   indefinite lock on a key (an export that did not finish) is refused at
///   once, naming its operation and `segflow ops recover`.
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

} // namespace seg
