#pragma once

// Lease files: the on-disk contract that lets threads, processes and hosts
// sharing a disk hold keys exclusively (no CAF here; the lock manager actor
// and the exporter's export lock are built on it).
//
// A key is an absolute path. Its lease file is `<key>/.segflow.lock` when the
// key is a folder, `<parent>/.<name>.segflow.lock` otherwise, a JSON object
//   {"token":"<32 hex>","pid":1234,"host":"pi","since":"2025-09-11T16:51:00.618Z",
//    "expires":"2025-09-11T16:51:30.618Z","path":"/data/img/d/s/a"}
// (times in UTC, ISO 8601 with milliseconds). An indefinite lock on a key
// (an export's, see export_lock.hpp) is a second kind of lock with its own
// file, `<key>/.export.segflow.lock` or `<parent>/.<name>.export.segflow.lock`,
// carrying "op" and "indefinite": true, so a job's lease on its output folder
// and the export's indefinite lock on it coexist; a key under an indefinite
// lock cannot be leased. Whoever created the file holds the key until it
// removes the file or stops renewing it: a lease whose `expires` has passed,
// whose holder is a dead pid on this host, or whose "path" is not the key it
// is found for (the folder was renamed while locked), may be taken over by
// anyone. An indefinite lock is never taken over: only `ops recover` (or a
// clean end of its operation) removes it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "messages/lease.hpp"

namespace seg::io {

/// Name of the lease file inside a locked folder.
constexpr const char* lease_file_name = ".segflow.lock";
/// Name of the indefinite lock's file inside a locked folder.
constexpr const char* indefinite_lock_file_name = ".export.segflow.lock";

/// The lease file of `key`, or its indefinite lock's (see the top of this file).
std::filesystem::path lease_file_of(const std::string& key, bool indefinite = false);

/// Milliseconds since the Unix epoch, now.
std::int64_t unix_ms_now();

/// A fresh random token (32 hex digits).
std::string random_token();

/// This host's name (gethostname; "localhost" if it fails).
std::string host_name();

/// What a lease file holds.
struct lease_info {
  lease held;               ///< key, token, holder, times
  std::string op;           ///< the operation that holds it; empty: none recorded
  bool indefinite = false;  ///< never expires, never taken over
};

/// The lease file's content for `info`.
std::string lease_file_text(const lease_info& info);

/// The lease in `text` found for `key`, or nothing if it is not a complete
/// lease file.
std::optional<lease_info> parse_lease_file(const std::string& text, const std::string& key);

/// The lease file of `key` as it is now; nothing if there is none or it is
/// unreadable.
std::optional<lease_info> read_lease(const std::string& key, bool indefinite = false);

/// Outcome of taking a key.
struct take_result {
  enum kind { taken, held, failed } what = failed;
  std::string text; ///< why not: the holder ("... is being segmented by ...") or the failure
  std::string op;   ///< held by an indefinite lock: its operation id
};

/// Tries once to create the lease file of `l.key` (its indefinite lock's if
/// `l.indefinite`) holding `l` (token, pid, host, since, expires already
/// set), taking over a stale one (see the top). A lease is refused while the
/// key is under an indefinite lock of an operation other than `l.op`.
/// `label` names the key in refusals ("acquisition", "output folder").
take_result take_lease(const lease_info& l, std::chrono::milliseconds lease_duration,
                       const std::string& host, const std::string& label,
                       const std::string& tag);

/// Removes the lease file of `l.key` (its indefinite lock's if `indefinite`)
/// if it still carries `l.token`; true if it did (value-matched: a lease
/// taken over in the meantime is left alone).
bool give_back_lease(const lease& l, const std::string& tag, bool indefinite = false);

/// Outcome of a renewal.
enum class renewal { renewed, lost, kept };

/// Rewrites `expires` of `l` in place (now + `lease_duration`) if its file
/// still carries its token: renewed; the file is gone or taken over: lost;
/// an I/O error (transient, the lease expires anyway): kept.
renewal renew_lease(lease_info& l, std::chrono::milliseconds lease_duration,
                    const std::string& tag);

/// Several keys at once, sorted and all-or-nothing: the keys (deduplicated)
/// are taken in ascending order; if one is refused, those taken are given
/// back and the refusal is returned. Ordering makes two callers with
/// overlapping key sets unable to wait on each other in a cycle; callers
/// retry a refusal after a backoff. `make` fills each key's lease_info.
struct take_all_result {
  std::vector<lease_info> taken; ///< all keys, when granted
  take_result refusal;           ///< what == taken when granted
};
take_all_result take_leases(std::vector<std::string> keys,
                            const lease_info& prototype,
                            std::chrono::milliseconds lease_duration,
                            const std::string& tag);

/// Removes the lease files of `keys` whose holder is a dead pid on `host`
/// (empty: this host), and that are not indefinite locks. Value-matched like
/// a takeover. Returns how many were removed.
std::size_t release_dead_leases(const std::vector<std::string>& keys, std::string host = {});

} // namespace seg::io
