#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace seg {

/// State of the gatekeeper.
struct gatekeeper_state {
  queue_control_actor queue;
  /// serve's token; compared in constant time, never logged or traced.
  std::string token;
  /// Hellos refused so far (a count for the log, not a lock-out).
  std::uint64_t refused = 0;

  static inline const char* name = "gatekeeper";
};

/// The gatekeeper's behaviour (gatekeeper_actor): a hello with the right
/// token gets the queue's control handle (role control) or the queue's join
/// answer, delegated (role join); any other token fails with
/// ec::not_authorized. Its messages are not traced: they carry the token.
gatekeeper_actor::behavior_type
gatekeeper(gatekeeper_actor::stateful_pointer<gatekeeper_state> self, queue_control_actor queue,
           std::string token);

/// Spawns the gatekeeper of `queue`.
gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, queue_control_actor queue,
                                  std::string token);

} // namespace seg
