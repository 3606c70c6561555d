#include "tools/segflow/remote.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/function_view.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/io/queue_store.hpp"
#include "actors/io/serve_token.hpp"
#include "actors/type_ids.hpp"
#include "tools/segflow/args.hpp"

namespace seg::cli {

void tls_files::declare(arg_parser& parser) {
  parser.option("tls-cert", &certificate, "FILE",
                "mutual TLS: this host's certificate (PEM; see segflow certs init)");
  parser.option("tls-key", &key, "FILE", "mutual TLS: this host's private key (PEM)");
  parser.option("tls-ca", &ca, "FILE",
                "mutual TLS: the CA certificate that signed every host's certificate");
}

bool tls_files::check() const {
  if (!enabled())
    return true;
  if (certificate.empty() || key.empty() || ca.empty()) {
    std::cerr << "error: mutual TLS needs all of --tls-cert, --tls-key and --tls-ca\n";
    return false;
  }
  for (auto* f : {&certificate, &key, &ca})
    if (::access(f->c_str(), R_OK) != 0) {
      std::cerr << "error: " << *f << ": cannot read\n";
      return false;
    }
  return true;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1")
    return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

namespace {
// The state directory of the packaged units (segflow.service,
// segflow-segmenter.service): where a client on the device finds serve's
// token when its user has none of its own.
const char* const packaged_token = "/var/lib/segflow/token";
} // namespace

void declare_token_option(arg_parser& parser, std::string& file) {
  parser.option("token", &file, "FILE",
                "serve's token file (default: token in the default state directory, "
                "$XDG_STATE_HOME/segflow or ~/.local/state/segflow, else "
                + std::string(packaged_token) + ")");
}

std::string read_token_or_explain(const std::string& file) {
  std::filesystem::path path = file;
  if (file.empty()) {
    path = io::default_state_dir() / io::token_file_name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && std::filesystem::exists(packaged_token, ec))
      path = packaged_token;
  }
  try {
    return io::read_token(path);
  } catch (const std::exception& e) {
    std::cerr << "error: serve's token: " << e.what()
              << " (serve writes it to <state dir>/token; point --token at it or a copy)\n";
    return {};
  }
}

void declare_link_timeout_option(arg_parser& parser, std::int64_t& ms) {
  parser.option("link-timeout", &ms, "MS",
                "a link silent this long is closed and its peer counts as lost (default "
                  + std::to_string(default_link_timeout_ms) + "; heartbeats go every 500)",
                min_link_timeout_ms, 3'600'000);
}

void configure_network(caf::actor_system_config& cfg, const tls_files& tls,
                       std::int64_t link_timeout_ms) {
  configure_actor_system(cfg, true);
  // Every process sends heartbeats at this pace, well inside any peer's
  // timeout, so a busy but alive peer is never taken for a lost one.
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(500)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::milliseconds(link_timeout_ms)});
  if (!tls.enabled())
    return;
  // Setting a certificate makes CAF's OpenSSL module require one of the
  // peer too, checked against the CA file: mutual TLS.
  cfg.openssl_certificate = tls.certificate;
  cfg.openssl_key = tls.key;
  cfg.openssl_cafile = tls.ca;
  cfg.load<caf::openssl::manager>();
}

caf::expected<std::uint16_t> publish_gatekeeper(const gatekeeper_actor& gate,
                                                const tls_files& tls) {
  if (tls.enabled())
    return caf::openssl::publish(gate, 0, "127.0.0.1", true);
  return gate.home_system().middleman().publish(gate, 0, "127.0.0.1", true);
}

caf::expected<void> unpublish_gatekeeper(const gatekeeper_actor& gate, std::uint16_t port,
                                         const tls_files& tls) {
  if (tls.enabled()) {
    // caf/openssl/unpublish.hpp of 0.17.6 does not compile (it omits the
    // actor address its manager expects): ask the manager directly.
    auto f = caf::make_function_view(gate.home_system().openssl_manager().actor_handle());
    return f(caf::unpublish_atom::value, caf::actor_cast<caf::actor_addr>(gate), port);
  }
  return gate.home_system().middleman().unpublish(gate, port);
}

caf::expected<gatekeeper_actor> connect_gatekeeper(caf::actor_system& sys, const endpoint& at,
                                                   const tls_files& tls) {
  if (tls.enabled())
    return caf::openssl::remote_actor<gatekeeper_actor>(sys, at.host, at.port);
  return sys.middleman().remote_actor<gatekeeper_actor>(at.host, at.port);
}

caf::expected<queue_control_actor> hello_control(caf::actor_system& sys,
                                                 const gatekeeper_actor& gate,
                                                 const std::string& token,
                                                 caf::timespan timeout) {
  caf::scoped_actor self{sys};
  caf::expected<queue_control_actor> out{caf::sec::request_timeout};
  self->request(gate, timeout, atom::hello::value, atom::control::value, token)
    .receive([&](queue_control_actor& q) { out = std::move(q); },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

caf::expected<node_welcome> hello_join(caf::actor_system& sys, const gatekeeper_actor& gate,
                                       const std::string& token, const node_info& node,
                                       caf::timespan timeout) {
  caf::scoped_actor self{sys};
  caf::expected<node_welcome> out{caf::sec::request_timeout};
  self->request(gate, timeout, atom::hello::value, atom::join::value, token, node)
    .receive(
      [&](reader_actor& r, exporter_actor& e, flat_source_actor& f, node_registry_actor& n,
          bool shares) {
        out = node_welcome{std::move(r), std::move(e), std::move(f), std::move(n), shares};
      },
      [&](caf::error& err) { out = std::move(err); });
  return out;
}

} // namespace seg::cli
