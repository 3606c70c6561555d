#pragma once

#include <map>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace seg::shm {
class image_segment;
}

namespace seg {

/// State of the flat source.
struct flat_source_state {
  /// Segment names this source hands out start with this (serve's own
  /// segments: "segflow-<pid>-").
  std::string prefix;
  /// The last segment mapped (a node fetches one flat piece by piece).
  std::string mapped_name;
  std::shared_ptr<shm::image_segment> mapped;

  static inline const char* name = "flat-source";
};

/// The flat source's behaviour (flat_source_actor): maps serve's flat
/// segments read-only by name and answers their shape and pieces of their
/// first image. A name outside `prefix`, a missing segment or a piece past
/// the end fails with ec::bad_request. Not traced: it carries pixels.
flat_source_actor::behavior_type
flat_source(flat_source_actor::stateful_pointer<flat_source_state> self, std::string prefix);

/// Spawns the flat source of this process's segments.
flat_source_actor spawn_flat_source(caf::actor_system& sys);

/// The largest piece a node asks for at once: small enough to cross a
/// 100 Mbit/s link well within CAF's connection timeout.
inline constexpr std::uint32_t flat_piece_bytes = 4u << 20;

} // namespace seg
