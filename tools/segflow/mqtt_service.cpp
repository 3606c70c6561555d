#include "tools/segflow/mqtt_service.hpp"

#include <cstdlib>
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/mqtt_protocol.hpp"
#include "actors/mqtt_bridge.hpp"
#include "tools/segflow/mqtt_client.hpp"

namespace seg::cli {

void mqtt_options::declare(arg_parser& parser) {
  parser.option("data", &data_root, "DIR",
                "data root holding img/: a segment request without a path segments all "
                "of img/ (default $PLANKTOSCOPE_DATA_PATH, else /home/pi/data)");
  parser.option("mqtt-objects", &object_messages, "on|off",
                "publish status/segmenter/object_id and status/segmenter/metric per "
                "object, as the reference does (default on)");
  parser.option("follow-imager", &follow_imager, "on|off",
                "segment the acquisition the imager is writing while it is acquired "
                "(status/imager Started ... Done; default off)");
  parser.option("mqtt-client-id", &client_id, "ID",
                "MQTT client id (default segflow-segmenter)");
}

bool mqtt_options::check() const {
  for (auto [name, value] : {std::pair{"--mqtt-objects", &object_messages},
                             std::pair{"--follow-imager", &follow_imager}})
    if (*value != "on" && *value != "off") {
      std::cerr << "error: " << name << " expects on or off, got '" << *value << "'\n";
      return false;
    }
  return true;
}

std::optional<endpoint> parse_broker(const std::string& text, const char* option) {
  auto with_port = text.find(':') == std::string::npos
                     ? text + ":" + std::to_string(default_mqtt_port)
                     : text;
  auto e = parse_endpoint(with_port);
  if (!e || e->port == 0) {
    std::cerr << "error: " << option << " expects HOST[:PORT], got '" << text << "'\n";
    return std::nullopt;
  }
  return e;
}

mqtt_service::~mqtt_service() {
  if (client_)
    client_->stop(std::chrono::milliseconds(0));
}

std::unique_ptr<mqtt_service> mqtt_service::start(caf::actor_system& sys,
                                                  queue_control_actor queue,
                                                  const endpoint& broker,
                                                  const mqtt_options& opts) {
  std::unique_ptr<mqtt_service> svc{new mqtt_service};
  mqtt_client::options copts;
  copts.host = broker.host;
  copts.port = broker.port;
  copts.client_id = opts.client_id;
  copts.subscriptions = {io::mqtt::requests_filter};
  if (opts.follow_imager == "on")
    copts.subscriptions.push_back(io::mqtt::imager_topic);
  // The client exists before the bridge so the bridge can publish through
  // it; its callbacks reach the bridge once it is set (messages before that
  // cannot arrive: the client starts afterwards).
  auto holder = std::make_shared<mqtt_bridge_actor>();
  svc->client_ = std::make_shared<mqtt_client>(
    copts,
    [holder](const std::string& topic, const std::string& payload) {
      caf::anon_send(*holder, atom::received::value, topic, payload);
    },
    [holder] { caf::anon_send(*holder, atom::online::value); });
  mqtt_bridge_config bcfg;
  std::weak_ptr<mqtt_client> weak = svc->client_;
  bcfg.publish = [weak](const std::string& topic, const std::string& payload) {
    if (auto c = weak.lock(); !c || !c->publish(topic, payload))
      spdlog::debug("mqtt_publish_dropped topic={} (not connected)", topic);
  };
  if (!opts.data_root.empty())
    bcfg.data_root = opts.data_root;
  else if (const char* env = std::getenv("PLANKTOSCOPE_DATA_PATH"); env && *env)
    bcfg.data_root = env;
  bcfg.object_messages = opts.object_messages == "on";
  bcfg.follow_imager = opts.follow_imager == "on";
  auto bridge = spawn_mqtt_bridge(sys, std::move(bcfg), std::move(queue));
  if (!bridge)
    throw std::runtime_error(sys.render(bridge.error()));
  *holder = *bridge;
  svc->bridge_ = *bridge;
  svc->client_->start();
  spdlog::info("mqtt_bridge_started broker={} objects={} follow_imager={}", broker.text(),
               opts.object_messages, opts.follow_imager);
  return svc;
}

void mqtt_service::stop(caf::scoped_actor& self) {
  if (stopped_)
    return;
  stopped_ = true;
  self->request(bridge_, std::chrono::seconds(5), atom::shutdown::value)
    .receive([](bool) {},
             [](caf::error&) { /* the bridge is gone already: nothing to announce */ });
  client_->stop();
  spdlog::info("mqtt_bridge_stopped published={} bytes={}", client_->published_messages(),
               client_->published_bytes());
  self->send_exit(bridge_, caf::exit_reason::user_shutdown);
  self->wait_for(bridge_);
}

} // namespace seg::cli
