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

} // namespace seg
