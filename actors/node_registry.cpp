#include "actors/node_registry.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/node_facts.hpp"

namespace seg {

namespace {

using self_ptr = node_registry_actor::stateful_pointer<node_registry_state>;
using time_point = caf::actor_clock::time_point;

constexpr auto rate_window = std::chrono::seconds(60);

// The process id in a CAF node id (getpid() of that process).
std::uint32_t process_of(const caf::node_id& id) {
  if (id && id->implementation_id() == caf::node_id::default_data::class_id)
    return static_cast<const caf::node_id::default_data&>(*id).process_id();
  return 0;
}

node_record* find_node(self_ptr self, const caf::node_id& id) {
  for (auto& n : self->state.nodes)
    if (n.id == id)
      return &n;
  return nullptr;
}

std::int64_t ms_between(time_point from, time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

// Checks heartbeats at a quarter of the timeout, while a remote node is
// not lost.
void schedule_poll(self_ptr self) {
  auto& st = self->state;
  if (st.poll_scheduled)
    return;
  bool watching = std::any_of(st.nodes.begin(), st.nodes.end(), [](const node_record& n) {
    return !n.local && n.entry.state != node_state::lost;
  });
  if (!watching)
    return;
  st.poll_scheduled = true;
  self->delayed_send(self, std::max(st.cfg.heartbeat_timeout / 4, std::chrono::milliseconds(1)),
                     atom::poll::value);
}

void mark_lost(node_record& n, std::string why, bool link_down) {
  if (n.entry.state != node_state::lost)
    n.before_lost = n.entry.state;
  n.entry.state = node_state::lost;
  n.entry.lost_reason = std::move(why);
  n.link_down = n.link_down || link_down;
  spdlog::warn("node_lost node={} address={} frames={} reason=\"{}\"", n.entry.name,
               n.entry.address, n.entry.frames, n.entry.lost_reason);
}

// A lost node's heartbeat or work: its link held after all (it was only
// silent, e.g. frozen); back to where it was.
void revive(node_record& n) {
  if (n.entry.state != node_state::lost || n.link_down)
    return;
  n.entry.state = n.before_lost;
  n.entry.lost_reason.clear();
  spdlog::info("node_back node={} state={}", n.entry.name, to_string(n.entry.state));
}

// Forgets the oldest lost nodes beyond cfg.keep_lost.
void prune_lost(self_ptr self) {
  auto& nodes = self->state.nodes;
  auto lost = std::count_if(nodes.begin(), nodes.end(), [](const node_record& n) {
    return n.entry.state == node_state::lost;
  });
  for (auto it = nodes.begin(); it != nodes.end() && std::size_t(lost) > self->state.cfg.keep_lost;) {
    if (it->entry.state == node_state::lost) {
      it = nodes.erase(it);
      --lost;
    } else {
      ++it;
    }
  }
}

// Asks CAF where the node's link comes from (a node of another process).
void resolve_address(self_ptr self, const caf::node_id& id) {
  if (!self->system().has_middleman())
    return;
  self->request(self->system().middleman().actor_handle(), std::chrono::seconds(10),
                caf::get_atom::value, id)
    .then(
      [self](const caf::node_id& id, const std::string& host, std::uint16_t port) {
        auto* n = find_node(self, id);
        if (n == nullptr || host.empty())
          return;
        auto& fn = self->state.cfg.address_of;
        n->entry.address = fn ? fn(host, port) : host + ":" + std::to_string(port);
      },
      [](const caf::error&) {
        // No direct link (any more): the address stays unknown.
      });
}

node_entry view(const node_record& n, time_point now) {
  auto e = n.entry;
  auto recent = std::count_if(n.done.begin(), n.done.end(),
                              [&](time_point t) { return now - t <= rate_window; });
  // Over the last minute, or since it joined (at least a second).
  auto span = std::clamp<caf::timespan>(now - n.joined, std::chrono::seconds(1), rate_window);
  e.frames_per_s = double(recent) / std::chrono::duration<double>(span).count();
  if (!n.local) {
    e.heartbeat_age_ms = std::max<std::int64_t>(0, ms_between(n.heard, now));
    auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    e.heartbeat_unix_ms = wall - e.heartbeat_age_ms;
  }
  return e;
}

} // namespace

node_registry_actor::behavior_type
node_registry(node_registry_actor::stateful_pointer<node_registry_state> self,
              node_registry_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [self](atom::add, const caf::node_id& id, const node_info& info) {
      auto now = self->clock().now();
      auto* n = find_node(self, id);
      bool again = n != nullptr;
      if (n == nullptr) {
        self->state.nodes.emplace_back();
        n = &self->state.nodes.back();
        n->id = id;
        n->local = id == self->node();
        n->joined = now;
        n->entry.name = io::node_name(info.host, process_of(id));
        n->entry.address = n->local ? "local" : "";
        n->entry.joined_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
      }
      n->entry.info = info;
      n->entry.state = node_state::joining;
      n->entry.lost_reason.clear();
      n->link_down = false;
      n->heard = now;
      spdlog::info("node_joined node={} workers={} again={}", n->entry.name, info.workers,
                   again);
      if (!n->local)
        resolve_address(self, id);
      prune_lost(self);
      schedule_poll(self);
    },
    [self](atom::work, const caf::node_id& id, std::uint32_t frames) {
      auto* n = find_node(self, id);
      if (n == nullptr)
        return; // a worker of a node that did not say hello (e.g. a test's)
      auto now = self->clock().now();
      n->heard = now;
      revive(*n);
      if (n->entry.state == node_state::joining) {
        n->entry.state = node_state::ready;
        spdlog::info("node_ready node={} address={}", n->entry.name, n->entry.address);
      }
      n->entry.frames += frames;
      for (std::uint32_t i = 0; i < frames; ++i)
        n->done.push_back(now);
      while (!n->done.empty() && now - n->done.front() > rate_window)
        n->done.pop_front();
    },
    [self](atom::tick, const caf::node_id& id) {
      if (auto* n = find_node(self, id)) {
        n->heard = self->clock().now();
        revive(*n);
        schedule_poll(self);
      }
    },
    [self](atom::lost, const caf::node_id& id, const std::string& why) {
      if (auto* n = find_node(self, id); n != nullptr && !n->local) {
        mark_lost(*n, "link down: " + why, true);
        prune_lost(self);
      }
    },
    [self](atom::list) {
      auto now = self->clock().now();
      node_listing out;
      for (auto& n : self->state.nodes)
        out.push_back(view(n, now));
      return out;
    },
    [self](atom::poll) {
      auto& st = self->state;
      st.poll_scheduled = false;
      auto now = self->clock().now();
      for (auto& n : st.nodes)
        if (!n.local && n.entry.state != node_state::lost
            && now - n.heard > st.cfg.heartbeat_timeout)
          mark_lost(n, "no heartbeat for " + std::to_string(ms_between(n.heard, now)) + " ms",
                    false);
      prune_lost(self);
      schedule_poll(self);
    },
  };
}

node_registry_actor spawn_node_registry(caf::actor_system& sys, node_registry_config cfg) {
  return sys.spawn(node_registry, std::move(cfg));
}

} // namespace seg
