#pragma once

#include <cstdint>
#include <ctime>

namespace seg::shm {

/// Whether process `pid` exists on this host: kill(pid, 0) succeeds, or
/// fails only for lack of permission (another user's process). segflow
/// names the owner pid of its shared-memory segments, temporary files and
/// leases; an owner that is not alive left them stale. A pid outside
/// 1..INT_MAX is never alive (kill would address process groups).
bool process_alive(std::int64_t pid);

/// Whether process `pid` started after `t` (wall-clock time), as far as
/// /proc tells (10 ms resolution; false when it cannot tell). Pids are
/// reused, quickly where pid_max is small: a live process that started after
/// a file was last written is not the writer its name records.
bool process_started_after(std::int64_t pid, const struct timespec& t);

} // namespace seg::shm
