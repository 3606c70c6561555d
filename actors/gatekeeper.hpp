#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace seg {

/// State of the gatekeeper.
struct gatekeeper_state {
  queue_control_actor queue;
  flat_source_actor flats;
  /// Where a joined node is registered (and sends its heartbeats).
  node_registry_actor registry;
  /// serve's own host facts: a node of another version is refused, one
  /// with the same shared memory maps serve's segments itself.
  node_info serve_node;
  /// serve's token; compared in constant time, never logged or traced.
  std::string token;
  /// Hellos refused so far (a count for the log, not a lock-out).
  std::uint64_t refused = 0;

  static inline const char* name = "gatekeeper";
};

/// The gatekeeper's behaviour (gatekeeper_actor): a hello with the right
/// token gets the queue's control handle (role control) or, for a worker
/// node of serve's version, the queue's join answer with the flat source,
/// the node registry (which the node is added to) and whether the node
/// shares serve's shared memory; any other token fails
/// with ec::not_authorized, another version with ec::bad_request naming
/// both. Its messages are not traced: they carry the token.
gatekeeper_actor::behavior_type
gatekeeper(gatekeeper_actor::stateful_pointer<gatekeeper_state> self, queue_control_actor queue,
           flat_source_actor flats, node_registry_actor registry, node_info serve_node,
           std::string token);

/// Spawns the gatekeeper of `queue`.
gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, queue_control_actor queue,
                                  flat_source_actor flats, node_registry_actor registry,
                                  node_info serve_node, std::string token);

} // namespace seg
