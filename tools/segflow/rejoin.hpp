#pragma once

// A worker node that lost its serve (serve restarted, the link cut, serve
// killed) joins it again by itself: it stops its workers, then starts
// itself afresh with the same arguments (execv, same pid), and the fresh
// process retries the serve with backoff until it answers. Starting afresh
// rather than reconnecting in place sidesteps two CAF 0.17 traps: a cached
// proxy of the dead serve returned by remote_actor after a restart on the
// same port, and an actor-system teardown that can block on a dead link.

#include <chrono>

namespace seg::cli {

/// The pause before join attempt `attempt` (0-based) after a failed one:
/// 200 ms doubling up to 5 s.
std::chrono::milliseconds rejoin_backoff(int attempt);

/// How often this process has started itself afresh to rejoin (0 for the
/// first start; kept in the environment across execv).
int rejoin_count();

/// Starts this process afresh with `argv` (file descriptors but 0-2 are
/// closed on exec) and the rejoin count one higher. Returns only when
/// execv fails (the caller then exits).
void restart_to_rejoin(char** argv);

} // namespace seg::cli
