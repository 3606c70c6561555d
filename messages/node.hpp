#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seg {

/// What a worker node says of itself when it joins serve (its hello as a
/// worker, see gatekeeper_actor).
struct node_info {
  std::string host;                    ///< its host name
  std::uint32_t cores = 0;             ///< hardware threads
  std::uint32_t workers = 0;           ///< segment workers it runs
  std::string version;                 ///< segflow's version; must equal serve's
  std::vector<std::string> data_roots; ///< data roots it can read (--data)
  /// Where its shared memory lives: the kernel's boot id and the device and
  /// inode of /dev/shm. Equal to serve's: the node maps serve's segments
  /// itself (same host, same mount namespace); else serve sends the flat.
  std::string boot_id;
  std::uint64_t shm_device = 0;
  std::uint64_t shm_inode = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(x.host, x.cores, x.workers, x.version, x.data_roots, x.boot_id, x.shm_device,
           x.shm_inode);
}

/// The shape of a flat-field segment, for a node that copies it (see
/// flat_source_actor).
struct flat_shape {
  std::int32_t rows = 0;
  std::int32_t cols = 0;
  std::int32_t type = 0;  ///< OpenCV type
  std::uint64_t bytes = 0; ///< rows * cols * element size
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flat_shape& x) {
  return f(x.rows, x.cols, x.type, x.bytes);
}

/// A piece of a flat-field segment's image.
struct flat_piece {
  std::uint64_t offset = 0;
  std::vector<std::uint8_t> bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flat_piece& x) {
  return f(x.offset, x.bytes);
}


/// Where a node stands in serve's node registry (actors/node_registry.hpp).
enum class node_state : std::uint8_t {
  joining, ///< said hello; none of its workers has asked for work yet
  ready,   ///< its workers pull work
  lost,    ///< its link went down or its heartbeats stopped
};

inline const char* to_string(node_state s) {
  switch (s) {
    case node_state::joining: return "joining";
    case node_state::ready: return "ready";
    case node_state::lost: return "lost";
  }
  return "unknown";
}

/// One node of serve's registry, as `segflow ctl nodes` shows it.
struct node_entry {
  std::string name;    ///< host:pid, the name status events give a frame's node
  std::string address; ///< the peer's address (host:port), "local" for serve itself
  node_info info;      ///< what the node said of itself at its hello
  node_state state = node_state::joining;
  std::string lost_reason;       ///< why it counts as lost
  std::uint64_t frames = 0;      ///< frames its workers segmented
  double frames_per_s = 0;       ///< over the last minute (or since it joined)
  std::int64_t joined_unix_ms = 0;
  /// Its last heartbeat (unix ms), -1 for none (serve's own workers send none).
  std::int64_t heartbeat_unix_ms = -1;
  std::int64_t heartbeat_age_ms = -1; ///< how long ago, -1 for none
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_entry& x) {
  return f(x.name, x.address, x.info, x.state, x.lost_reason, x.frames, x.frames_per_s,
           x.joined_unix_ms, x.heartbeat_unix_ms, x.heartbeat_age_ms);
}

/// Every node of the registry, in registration order.
using node_listing = std::vector<node_entry>;

} // namespace seg
