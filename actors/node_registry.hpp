#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/node_id.hpp>

#include "actors/interfaces.hpp"

namespace seg {

/// Settings of the node registry.
struct node_registry_config {
  /// A node silent this long (no heartbeat, no work asked) counts as lost:
  /// serve's --link-timeout, after which CAF closes its link too.
  std::chrono::milliseconds heartbeat_timeout{4000};
  /// Lost nodes still listed; beyond, the oldest lost ones are forgotten.
  std::size_t keep_lost = 32;
  /// The address shown for a peer CAF sees at (host, port): serve's control
  /// gate relays clients, so CAF sees them on loopback (see control_gate).
  /// Unset: "host:port".
  std::function<std::string(const std::string&, std::uint16_t)> address_of;
};

/// What the registry keeps of one node.
struct node_record {
  caf::node_id id;
  node_entry entry;
  bool local = false;     ///< serve's own workers: no heartbeats, never lost
  bool link_down = false; ///< lost with its link: only a new hello revives it
  node_state before_lost = node_state::joining;
  caf::actor_clock::time_point joined;
  caf::actor_clock::time_point heard; ///< last heartbeat (or hello, or work asked)
  std::deque<caf::actor_clock::time_point> done; ///< frames done in the last minute
};

struct node_registry_state {
  static inline const char* name = "node-registry";
  node_registry_config cfg;
  std::vector<node_record> nodes; ///< in registration order
  bool poll_scheduled = false;
};

/// The node registry: see node_registry_actor in interfaces.hpp.
node_registry_actor::behavior_type
node_registry(node_registry_actor::stateful_pointer<node_registry_state> self,
              node_registry_config cfg);

/// Spawns the node registry.
node_registry_actor spawn_node_registry(caf::actor_system& sys, node_registry_config cfg);

} // namespace seg
