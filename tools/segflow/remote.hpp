#pragma once

// How segflow's processes reach each other: serve publishes its gatekeeper
// (actors/gatekeeper.hpp) on loopback, behind the control gate; ctl, the
// MQTT bridge and worker nodes connect to it, plain or with mutual TLS
// (CAF's OpenSSL module), and say hello with serve's token.

#include <cstdint>
#include <string>
#include <utility>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "tools/segflow/endpoint.hpp"

namespace seg::cli {

class arg_parser;

/// Mutual TLS: this process's certificate and key and the CA that signed
/// its peers' certificates (PEM files, e.g. from `segflow certs init`).
/// All three or none.
struct tls_files {
  std::string certificate;
  std::string key;
  std::string ca;

  bool enabled() const {
    return !certificate.empty() || !key.empty() || !ca.empty();
  }

  /// Declares --tls-cert, --tls-key and --tls-ca.
  void declare(arg_parser& parser);

  /// All three or none, each a readable file; prints the problem and
  /// returns false otherwise.
  bool check() const;
};

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback(const std::string& host);

/// Declares --token FILE (the serve's token file, by default in the default
/// state directory).
void declare_token_option(arg_parser& parser, std::string& file);

/// Reads the token file `file` (empty: the default state directory's);
/// prints the problem (naming the file) and returns "" when it cannot.
std::string read_token_or_explain(const std::string& file);

/// How long a link may stay silent before CAF closes it (its actors then
/// count as down: a lost node's frames go back to the pool). CAF 0.17 sees
/// a cut link or a frozen peer only this way, and only when both ends send
/// heartbeats (docs/CLUSTER.md).
constexpr std::int64_t default_link_timeout_ms = 4000;
constexpr std::int64_t min_link_timeout_ms = 2000;

/// Declares --link-timeout MS (min_link_timeout_ms to one hour).
void declare_link_timeout_option(arg_parser& parser, std::int64_t& ms);

/// The actor system of a process that talks to another one: message types,
/// CAF's middleman with heartbeats and `link_timeout_ms`, and with TLS,
/// CAF's OpenSSL module set to `tls`.
void configure_network(caf::actor_system_config& cfg, const tls_files& tls,
                       std::int64_t link_timeout_ms = default_link_timeout_ms);

/// Publishes serve's gatekeeper on 127.0.0.1 at any free port (TLS when
/// `tls` is enabled); returns the port.
caf::expected<std::uint16_t> publish_gatekeeper(const gatekeeper_actor& gate,
                                                const tls_files& tls);

/// Stops listening on `port`.
caf::expected<void> unpublish_gatekeeper(const gatekeeper_actor& gate, std::uint16_t port,
                                         const tls_files& tls);

/// Connects to serve's gatekeeper (TLS when `tls` is enabled). Blocks in
/// CAF's handshake (no timeout of its own).
caf::expected<gatekeeper_actor> connect_gatekeeper(caf::actor_system& sys, const endpoint& at,
                                                   const tls_files& tls);

/// Says hello for the queue's control handle; fails (ec::not_authorized)
/// for a wrong token.
caf::expected<queue_control_actor> hello_control(caf::actor_system& sys,
                                                 const gatekeeper_actor& gate,
                                                 const std::string& token,
                                                 caf::timespan timeout);

/// What a worker node gets for its registration.
struct node_welcome {
  reader_actor reader;
  exporter_actor exporter;
  flat_source_actor flats;
  node_registry_actor registry; ///< where its heartbeats go
  bool shares_memory = false;   ///< it maps serve's segments itself
};

/// Registers as a worker node (`node` says who it is).
caf::expected<node_welcome> hello_join(caf::actor_system& sys, const gatekeeper_actor& gate,
                                       const std::string& token, const node_info& node,
                                       caf::timespan timeout);

} // namespace seg::cli
