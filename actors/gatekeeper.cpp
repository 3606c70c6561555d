#include "actors/gatekeeper.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/io/node_facts.hpp"
#include "actors/io/serve_token.hpp"

namespace seg {

namespace {

using self_ptr = gatekeeper_actor::stateful_pointer<gatekeeper_state>;

// Whether `token` is serve's; logs a refusal (who asked, never the token).
bool admit(self_ptr self, const std::string& token, const char* role) {
  if (!token.empty() && io::token_equal(token, self->state.token))
    return true;
  ++self->state.refused;
  auto from = self->current_sender();
  spdlog::warn("gatekeeper_refused role={} node={} refused={} reason={}", role,
               from ? caf::to_string(from->node()) : std::string("?"), self->state.refused,
               token.empty() ? "no token" : "wrong token");
  return false;
}

caf::error refusal() {
  return make_error(ec::not_authorized,
                    "serve refused the token: give the token file of serve's state directory "
                    "(<state>/token, see --token)");
}

} // namespace

gatekeeper_actor::behavior_type gatekeeper(self_ptr self, queue_control_actor queue,
                                           flat_source_actor flats,
                                           node_registry_actor registry, node_info serve_node,
                                           std::string token) {
  self->state.queue = std::move(queue);
  self->state.flats = std::move(flats);
  self->state.registry = std::move(registry);
  self->state.serve_node = std::move(serve_node);
  self->state.token = std::move(token);
  return {
    [self](atom::hello, atom::control,
           const std::string& token) -> caf::result<queue_control_actor> {
      if (!admit(self, token, "control"))
        return refusal();
      return self->state.queue;
    },
    [self](atom::hello, atom::join, const std::string& token, const node_info& node)
      -> caf::result<reader_actor, exporter_actor, flat_source_actor, node_registry_actor,
                     bool> {
      if (!admit(self, token, "join"))
        return refusal();
      auto& st = self->state;
      if (node.version != st.serve_node.version) {
        spdlog::warn("node_refused host={} version={} serve_version={}", node.host,
                     node.version, st.serve_node.version);
        return make_error(ec::bad_request, "node " + node.host + " runs segflow "
                                             + node.version + ", serve runs segflow "
                                             + st.serve_node.version
                                             + ": install the same version on both");
      }
      bool shares = io::shares_memory(node, st.serve_node);
      std::string roots;
      for (auto& r : node.data_roots)
        roots += (roots.empty() ? "" : ",") + r;
      spdlog::info("node_registered host={} cores={} workers={} version={} shares_memory={} "
                   "data_roots={}",
                   node.host, node.cores, node.workers, node.version, shares,
                   roots.empty() ? "-" : roots);
      auto from = self->current_sender();
      auto rp = self->make_response_promise<reader_actor, exporter_actor, flat_source_actor,
                                            node_registry_actor, bool>();
      self->request(st.queue, std::chrono::seconds(30), atom::join::value)
        .then(
          [=](reader_actor& r, exporter_actor& e) mutable {
            auto& st = self->state;
            if (from)
              self->send(st.registry, atom::add::value, from->node(), node);
            rp.deliver(std::move(r), std::move(e), st.flats, st.registry, shares);
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, queue_control_actor queue,
                                  flat_source_actor flats, node_registry_actor registry,
                                  node_info serve_node, std::string token) {
  return sys.spawn(gatekeeper, std::move(queue), std::move(flats), std::move(registry),
                   std::move(serve_node), std::move(token));
}

} // namespace seg
