#pragma once

#include <cstdint>

namespace seg::shm {

/// Whether process `pid` exists on this host: kill(pid, 0) succeeds, or
/// fails only for lack of permission (another user's process). segflow
/// names the owner pid of its shared-memory segments, temporary files and
/// leases; an owner that is not alive left them stale. A pid outside
/// 1..INT_MAX is never alive (kill would address process groups).
bool process_alive(std::int64_t pid);

} // namespace seg::shm
