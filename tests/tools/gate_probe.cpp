// A client that tries to get past serve's gatekeeper without the token, for
// tests/cli/serve_token.sh: it connects to serve's port like ctl, then asks
// the published actor what ctl and workers ask the queue (list, join, add,
// status), sends hellos with no token and a wrong one, and finally a hello
// with the token file given (which must work, so the probe is known to
// reach the gatekeeper). Prints one line per attempt; exit 0 if every
// attempt without the token got no handle and no answer, 1 otherwise.
//
//   gate_probe HOST:PORT TOKEN_FILE

#include <cstdio>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "actors/interfaces.hpp"
#include "actors/io/serve_token.hpp"
#include "actors/type_ids.hpp"

namespace {

using namespace std::chrono_literals;

int failures = 0;

void expect_refused(const char* what, bool answered, const std::string& why) {
  std::printf("%s: %s%s\n", what, answered ? "ANSWERED" : "refused: ", why.c_str());
  if (answered)
    ++failures;
}

template <class... Rs, class Handle, class... Ts>
void try_request(caf::actor_system& sys, const char* what, const Handle& to, Ts... xs) {
  caf::scoped_actor self{sys};
  self->request(to, 10s, xs...)
    .receive([&](Rs&...) { expect_refused(what, true, ""); },
             [&](caf::error& err) { expect_refused(what, false, sys.render(err)); });
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gate_probe HOST:PORT TOKEN_FILE\n");
    return 2;
  }
  std::string addr = argv[1];
  auto colon = addr.rfind(':');
  auto host = addr.substr(0, colon);
  auto port = std::uint16_t(std::stoi(addr.substr(colon + 1)));
  caf::actor_system_config cfg;
  seg::configure_actor_system(cfg, true);
  caf::actor_system sys{cfg};

  // The published actor is not the queue: asking for it by its interface fails.
  auto as_queue = sys.middleman().remote_actor<seg::queue_control_actor>(host, port);
  if (as_queue)
    try_request<seg::queue_listing>(sys, "list via a queue handle", *as_queue,
                                    seg::atom::list::value);
  else
    expect_refused("connect as the queue", false, sys.render(as_queue.error()));

  auto gate = sys.middleman().remote_actor<seg::gatekeeper_actor>(host, port);
  if (!gate) {
    std::printf("cannot connect to the gatekeeper: %s\n", sys.render(gate.error()).c_str());
    return 1;
  }
  auto untyped = caf::actor_cast<caf::actor>(*gate);
  try_request<seg::queue_listing>(sys, "list", untyped, seg::atom::list::value);
  try_request<seg::reader_actor, seg::exporter_actor>(sys, "join", untyped,
                                                      seg::atom::join::value);
  try_request<seg::job_record>(sys, "status", untyped, seg::atom::status::value,
                               std::uint64_t(1));
  try_request<std::uint64_t>(sys, "add", untyped, seg::atom::add::value,
                             seg::job_spec{});
  try_request<seg::queue_control_actor>(sys, "hello without token", *gate,
                                        seg::atom::hello::value, seg::atom::control::value,
                                        std::string());
  try_request<seg::queue_control_actor>(sys, "hello with a wrong token", *gate,
                                        seg::atom::hello::value, seg::atom::control::value,
                                        seg::io::new_token());
  try_request<seg::reader_actor, seg::exporter_actor, seg::flat_source_actor,
              seg::node_registry_actor, bool>(
    sys, "worker hello with a wrong token", *gate, seg::atom::hello::value,
    seg::atom::join::value, seg::io::new_token(), seg::node_info{});

  // The right token works through this same connection.
  caf::scoped_actor self{sys};
  bool admitted = false;
  self->request(*gate, 10s, seg::atom::hello::value, seg::atom::control::value,
                seg::io::read_token(argv[2]))
    .receive(
      [&](seg::queue_control_actor& q) {
        self->request(q, 10s, seg::atom::list::value)
          .receive([&](seg::queue_listing&) { admitted = true; }, [](caf::error&) {});
      },
      [&](caf::error& err) { std::printf("hello with the token: %s\n", sys.render(err).c_str()); });
  std::printf("hello with the token: %s\n", admitted ? "admitted, list answered" : "FAILED");
  if (!admitted)
    ++failures;
  return failures == 0 ? 0 : 1;
}
