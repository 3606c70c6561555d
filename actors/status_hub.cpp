#include "actors/status_hub.hpp"
#include "actors/trace.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

namespace seg {

status_hub_actor::behavior_type
status_hub(status_hub_actor::stateful_pointer<status_hub_state> self) {
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& sinks = self->state.sinks;
    auto dead = std::remove_if(sinks.begin(), sinks.end(), [&](const auto& s) {
      return s.address() == msg.source;
    });
    if (dead != sinks.end())
      spdlog::debug("status_sink_dropped actor=status-hub#{} sink={}", self->id(),
                    msg.source.id());
    sinks.erase(dead, sinks.end());
  });
  return trace::traced_all(self,
    [self](const job_event& ev) {
      for (auto& sink : self->state.sinks)
        self->send(sink, ev);
    },
    [self](atom::subscribe, status_sink_actor sink) {
      auto& sinks = self->state.sinks;
      if (!sink || std::find(sinks.begin(), sinks.end(), sink) != sinks.end())
        return;
      self->monitor(sink);
      sinks.push_back(std::move(sink));
    });
}

status_hub_actor spawn_status_hub(caf::actor_system& sys) {
  return sys.spawn(status_hub);
}

} // namespace seg
