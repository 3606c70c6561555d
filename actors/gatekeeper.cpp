#include "actors/gatekeeper.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include "actors/error.hpp"
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
                                           std::string token) {
  self->state.queue = std::move(queue);
  self->state.token = std::move(token);
  return {
    [self](atom::hello, atom::control,
           const std::string& token) -> caf::result<queue_control_actor> {
      if (!admit(self, token, "control"))
        return refusal();
      return self->state.queue;
    },
    [self](atom::hello, atom::join,
           const std::string& token) -> caf::result<reader_actor, exporter_actor> {
      if (!admit(self, token, "join"))
        return refusal();
      return self->delegate(self->state.queue, atom::join::value);
    },
  };
}

gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, queue_control_actor queue,
                                  std::string token) {
  return sys.spawn(gatekeeper, std::move(queue), std::move(token));
}

} // namespace seg
