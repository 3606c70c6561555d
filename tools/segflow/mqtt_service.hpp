#pragma once

// The MQTT side of a segflow process: the bridge actor on a queue's control
// interface plus the libmosquitto client that carries its messages. Used by
// `segflow serve --mqtt` (the queue in the same process) and `segflow mqtt
// --connect` (a serve's published queue).

#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "tools/segflow/args.hpp"
#include "tools/segflow/endpoint.hpp"

namespace seg::cli {

class mqtt_client;

/// The port of the PlanktoScope's mosquitto.
inline constexpr std::uint16_t default_mqtt_port = 1883;

/// Command-line options of the bridge.
struct mqtt_options {
  std::string data_root;       ///< --data (else $PLANKTOSCOPE_DATA_PATH, else /home/pi/data)
  std::string object_messages = "on"; ///< --mqtt-objects on|off
  std::string follow_imager = "off";  ///< --follow-imager on|off
  std::string client_id = "segflow-segmenter";

  /// Declares --data, --mqtt-objects, --follow-imager and --mqtt-client-id.
  void declare(arg_parser& parser);
  /// Checks the values; prints the problem and returns false if one is bad.
  bool check() const;
};

/// A running bridge and client.
class mqtt_service {
public:
  ~mqtt_service();

  /// Spawns the bridge on `queue` and starts the client (it connects in the
  /// background and retries forever).
  static std::unique_ptr<mqtt_service> start(caf::actor_system& sys,
                                             queue_control_actor queue,
                                             const endpoint& broker,
                                             const mqtt_options& opts);

  /// Publishes Dead, disconnects and stops the bridge.
  void stop(caf::scoped_actor& self);

  /// The bridge (it terminates if the queue goes away).
  const mqtt_bridge_actor& bridge() const {
    return bridge_;
  }

private:
  mqtt_service() = default;
  std::shared_ptr<mqtt_client> client_;
  mqtt_bridge_actor bridge_;
  bool stopped_ = false;
};

/// Parses --mqtt/--broker's HOST[:PORT] (default port 1883); prints the
/// problem and returns nullopt if malformed.
std::optional<endpoint> parse_broker(const std::string& text, const char* option);

} // namespace seg::cli
