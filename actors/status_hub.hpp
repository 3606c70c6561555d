#pragma once

#include <vector>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace seg {

/// State of the status hub.
struct status_hub_state {
  /// Subscribers, in subscription order; each is monitored.
  std::vector<status_sink_actor> sinks;

  static inline const char* name = "status-hub";
};

/// The status hub's behaviour: forwards every job_event to every subscriber
/// in the order received (so each subscriber sees the events in publication
/// order). subscribe adds a sink once (repeats are ignored) and monitors it;
/// a sink that terminates is dropped. Never replies, never fails.
status_hub_actor::behavior_type
status_hub(status_hub_actor::stateful_pointer<status_hub_state> self);

/// Spawns a status hub with no subscribers.
status_hub_actor spawn_status_hub(caf::actor_system& sys);

} // namespace seg
