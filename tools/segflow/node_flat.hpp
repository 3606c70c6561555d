#pragma once

// A worker node's copies of serve's flat fields, for a node that does not
// share serve's shared memory (another host, or another /dev/shm): the
// first worker that needs a flat copies it from serve's flat source in
// pieces (flat_source.hpp) into a segment of the same name in this host's
// shared memory, where every local worker maps it (zero-copy from then on).

#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace seg::shm {
class image_segment;
}

namespace seg::cli {

class node_flat_cache {
public:
  node_flat_cache(caf::actor_system& sys, flat_source_actor source);
  ~node_flat_cache();

  /// Makes segment `name` exist here (copied once; blocks the calling
  /// worker's thread meanwhile, the others wait for the same copy).
  /// @throws std::runtime_error naming the segment when serve cannot send it.
  void ensure(const std::string& name);

  /// Removes every copy (also on destruction).
  void clear();

private:
  caf::actor_system& sys_;
  flat_source_actor source_;
  std::mutex mutex_;
  std::deque<std::shared_ptr<shm::image_segment>> copies_; ///< oldest first
};

} // namespace seg::cli
