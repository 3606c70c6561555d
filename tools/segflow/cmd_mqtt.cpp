// `segflow mqtt`: the PlanktoScope segmenter's MQTT protocol as a bridge onto
// a running `segflow serve` (its published queue control interface, as ctl
// uses it). Runs until SIGINT/SIGTERM (publishes Dead, exit 0) or until
// serve goes away (exit 1, for systemd to restart it). `serve --mqtt` runs
// the same bridge inside serve, one process instead of two.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/interfaces.hpp"
#include "actors/error.hpp"
#include "actors/type_ids.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/endpoint.hpp"
#include "tools/segflow/mqtt_service.hpp"
#include "tools/segflow/remote.hpp"

namespace seg::cli {

int run_mqtt(int argc, char** argv) {
  settings_options opts;
  std::string broker_text = "127.0.0.1:" + std::to_string(default_mqtt_port);
  std::string connect;
  if (const char* env = std::getenv("SEGFLOW_CONNECT"))
    connect = env;
  if (connect.empty())
    connect = "127.0.0.1:" + std::to_string(default_serve_port);
  std::int64_t wait_s = 30;
  mqtt_options mopts;
  std::string token_file;
  tls_files tls;
  arg_parser parser(
    "segflow mqtt [--broker HOST:PORT] [--connect HOST:PORT] [--data DIR] "
    "[--mqtt-objects on|off]",
    "Speaks the PlanktoScope segmenter's MQTT protocol (segmenter/# in,\n"
    "status/segmenter out, as the Node-RED dashboard expects) and segflow's\n"
    "queue commands (segmenter/segflow) as a bridge onto a running `segflow\n"
    "serve`. The broker is retried forever; exit 0 on SIGINT/SIGTERM, 1 when\n"
    "serve goes away, 2 if serve cannot be reached within --wait seconds.");
  opts.declare(parser);
  parser.option("broker", &broker_text, "HOST[:PORT]",
                "MQTT broker (default 127.0.0.1:1883)");
  parser.option("connect", &connect, "HOST:PORT",
                "segflow serve (default $SEGFLOW_CONNECT, else 127.0.0.1:4750)");
  parser.option("wait", &wait_s, "S", "seconds to keep trying to reach serve (default 30)",
                0, 3600);
  mopts.declare(parser);
  declare_token_option(parser, token_file);
  tls.declare(parser);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  if (!tls.check())
    return exit_usage;
  auto broker = parse_broker(broker_text, "--broker");
  auto where = parse_endpoint(connect);
  if (!broker || !mopts.check())
    return exit_usage;
  if (!where || where->port == 0) {
    std::cerr << "error: --connect expects HOST:PORT, got '" << connect << "'\n";
    return exit_usage;
  }
  config::settings settings;
  if (!load_settings(opts, settings))
    return exit_usage;
  setup_logging(settings);
  auto token = read_token_or_explain(token_file);
  if (token.empty())
    return exit_usage;
  auto signals = take_stop_signals();

  caf::actor_system_config cfg;
  configure_network(cfg, tls);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // serve may still be starting (two units started together).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  auto gate = connect_gatekeeper(sys, *where, tls);
  while (!gate && std::chrono::steady_clock::now() < deadline) {
    timespec pause{0, 500'000'000};
    if (int sig = sigtimedwait(&signals, nullptr, &pause); sig == SIGINT || sig == SIGTERM)
      return exit_ok;
    gate = connect_gatekeeper(sys, *where, tls);
  }
  if (!gate) {
    std::cerr << "error: cannot reach segflow serve at " << where->text() << ": "
              << sys.render(gate.error()) << "\n";
    return exit_usage;
  }
  auto remote = hello_control(sys, *gate, token, std::chrono::seconds(30));
  if (!remote) {
    std::cerr << "error: segflow serve at " << where->text() << ": "
              << error_text(sys, remote.error()) << "\n";
    return exit_usage;
  }
  std::unique_ptr<mqtt_service> svc;
  try {
    svc = mqtt_service::start(sys, *remote, *broker, mopts);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  self->monitor(svc->bridge());
  int rc = exit_ok;
  for (;;) {
    timespec tick{0, 200'000'000};
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM)
      break;
    bool gone = false;
    self->receive([&](caf::down_msg&) { gone = true; },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    if (gone) {
      spdlog::error("mqtt_bridge_down serve={}: the queue went away", where->text());
      rc = exit_failed;
      break;
    }
  }
  svc->stop(self);
  return rc;
}

} // namespace seg::cli
