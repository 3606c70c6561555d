#pragma once

// The MQTT bridge: the PlanktoScope segmenter's protocol onto the queue's
// control interface (DESIGN "On a PlanktoScope"). A segment request adds its
// acquisitions as jobs (all or none); requests queue behind each other and
// each gets the reference's status sequence: Started, per acquisition
// Calculating flat and one "Segmenting image" per frame, then Done,
// Interrupted or the exception text, once every job of the request ended.
// stop stops the request that runs (its running job and its pending jobs);
// later requests go on. With follow_imager, the acquisition the imager is
// writing is segmented while it is acquired (pipeline.follow).

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace seg {

/// Hands one message to the broker: topic, payload (QoS 0, not retained).
using mqtt_publish_fn = std::function<void(const std::string&, const std::string&)>;

struct mqtt_bridge_config {
  mqtt_publish_fn publish;
  /// Holds img/: a segment request without "path" segments all of img/.
  std::filesystem::path data_root = "/home/pi/data";
  /// Per-object status/segmenter/object_id and status/segmenter/metric.
  bool object_messages = true;
  /// Follow the acquisition the imager writes: status/imager Started, then
  /// its first frame's path, adds a job with pipeline.follow; the imager's
  /// Done (or Interrupted) seals it.
  bool follow_imager = false;
  /// Settings of every job ("section.key=value"), before the request's.
  std::vector<std::string> overrides;
  /// Bound on each request to the queue.
  std::chrono::seconds timeout{30};
};

/// One segment request as the bridge tracks it.
struct mqtt_request_track {
  std::vector<std::uint64_t> jobs;   ///< queue job ids, in order
  std::set<std::uint64_t> finished;  ///< jobs that ended
  bool adding = false;               ///< the queue's add reply is awaited
  bool started = false;              ///< Started published
  bool interrupted = false;          ///< stopped: ends Interrupted
  bool refused = false;              ///< the queue refused the add
  std::string failure;               ///< last failure reason: ends with the exception
};

struct mqtt_bridge_state {
  mqtt_bridge_config cfg;
  queue_control_actor queue;
  std::deque<mqtt_request_track> requests; ///< in arrival order; the front reports
  std::map<std::uint64_t, std::uint64_t> next_label; ///< per running job (object ids)
  bool announced = false;            ///< Ready published
  bool imager_started = false;       ///< Started seen, its folder not yet known
  /// Followed acquisitions: folder -> job id (0 while the add is on its way).
  std::map<std::string, std::uint64_t> followed;
  std::set<std::string> seal_on_add; ///< Done came before the add's reply

  static inline const char* name = "mqtt-bridge";
};

/// The bridge's behaviour; it subscribes to `queue` for status events.
mqtt_bridge_actor::behavior_type
mqtt_bridge(mqtt_bridge_actor::stateful_pointer<mqtt_bridge_state> self,
            mqtt_bridge_config cfg, queue_control_actor queue);

/// Spawns the bridge; fails if cfg.publish is empty or queue is invalid.
caf::expected<mqtt_bridge_actor> spawn_mqtt_bridge(caf::actor_system& sys,
                                                   mqtt_bridge_config cfg,
                                                   queue_control_actor queue);

} // namespace seg
