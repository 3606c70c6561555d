// The node registry (actors/node_registry.hpp) on the deterministic fixture:
// the test plays the gatekeeper (add), the reader (work, lost) and the
// nodes (tick), with CAF node ids of its own making, and moves the clock.
// Decided here: a node is its CAF node (one process); the same node saying
// hello again is the same entry (joining again, its frames kept), a
// restarted process is a new entry and the old one stays listed as lost.

#include "actors/node_registry.hpp"

#include <string>

#include <caf/node_id.hpp>
#include <catch2/catch.hpp>

#include "tests/actors/fixture.hpp"

namespace {

using namespace std::chrono_literals;
using seg::node_state;

caf::node_id remote_node(std::uint32_t pid) {
  caf::node_id::default_data::host_id_type host{};
  host.fill(0xab);
  return caf::make_node_id(pid, host);
}

seg::node_info lab(std::string host = "lab1", std::uint32_t workers = 2) {
  seg::node_info n;
  n.host = std::move(host);
  n.cores = 4;
  n.workers = workers;
  n.version = "1.2.3";
  n.data_roots = {"/data"};
  return n;
}

struct registry_fixture : seg::test::fixture {
  seg::node_registry_config cfg = [] {
    seg::node_registry_config c;
    c.heartbeat_timeout = 4000ms;
    c.keep_lost = 2;
    return c;
  }();
  seg::node_registry_actor registry = adopt(seg::spawn_node_registry(sys, cfg));

  seg::node_listing nodes() {
    auto all = ask<seg::node_listing>(registry, seg::atom::list::value);
    REQUIRE(all);
    return *all;
  }

  seg::node_entry only() {
    auto all = nodes();
    REQUIRE(all.size() == 1);
    return all[0];
  }

  void add(const caf::node_id& id, const seg::node_info& info) {
    send(registry, seg::atom::add::value, id, info);
    run();
  }

  void work(const caf::node_id& id, std::uint32_t frames) {
    send(registry, seg::atom::work::value, id, frames);
    run();
  }

  void tick(const caf::node_id& id) {
    send(registry, seg::atom::tick::value, id);
    run();
  }
};

} // namespace

TEST_CASE("a node joins, is ready once its workers ask for work and counts its frames",
          "[actor][nodes]") {
  registry_fixture f;
  CHECK(f.nodes().empty());
  auto lab1 = remote_node(4242);
  f.add(lab1, lab());
  auto n = f.only();
  CHECK(n.name == "lab1:4242");
  CHECK(n.state == node_state::joining);
  CHECK(n.info.workers == 2);
  CHECK(n.info.cores == 4);
  CHECK(n.info.data_roots == std::vector<std::string>{"/data"});
  CHECK(n.frames == 0);
  CHECK(n.heartbeat_age_ms == 0); // the hello counts as one
  CHECK(n.address.empty());       // no middleman here to ask

  f.work(lab1, 0); // a first ask: no frame done yet
  CHECK(f.only().state == node_state::ready);
  for (int i = 0; i < 6; ++i) {
    f.advance(1s);
    f.tick(lab1);
    f.work(lab1, 1);
  }
  n = f.only();
  CHECK(n.state == node_state::ready);
  CHECK(n.frames == 6);
  // 6 frames in the 6 s since it joined.
  CHECK(n.frames_per_s == Approx(1.0));
  CHECK(n.heartbeat_age_ms == 0);
  // A minute after it joined the rate is 6 per 60 s; once they are older
  // than a minute, 0.
  for (int i = 0; i < 11; ++i) {
    f.advance(5s);
    f.tick(lab1);
  }
  n = f.only();
  CHECK(n.frames == 6);
  CHECK(n.frames_per_s == Approx(6.0 / 60));
  for (int i = 0; i < 4; ++i) {
    f.advance(3s);
    f.tick(lab1);
  }
  CHECK(f.only().frames_per_s == 0.0);
  CHECK(f.only().frames == 6);
  CHECK(f.only().state == node_state::ready);
}

TEST_CASE("a node whose link is down is lost; its hello again makes it the same entry",
          "[actor][nodes]") {
  registry_fixture f;
  auto lab1 = remote_node(4242);
  f.add(lab1, lab());
  f.work(lab1, 0);
  f.work(lab1, 1);
  f.work(lab1, 1);
  f.send(f.registry, seg::atom::lost::value, lab1, std::string("connection closed"));
  f.run();
  auto n = f.only();
  CHECK(n.state == node_state::lost);
  CHECK(n.lost_reason == "link down: connection closed");
  CHECK(n.frames == 2);
  // A late heartbeat does not bring back a node whose link is gone.
  f.tick(lab1);
  CHECK(f.only().state == node_state::lost);
  // The same process says hello again (its link came back): the same entry.
  f.add(lab1, lab());
  n = f.only();
  CHECK(n.state == node_state::joining);
  CHECK(n.lost_reason.empty());
  CHECK(n.frames == 2);
  f.work(lab1, 1);
  CHECK(f.only().state == node_state::ready);
  CHECK(f.only().frames == 3);
}

TEST_CASE("a node without heartbeats for the timeout is lost, and back if they resume",
          "[actor][nodes]") {
  registry_fixture f;
  auto lab1 = remote_node(4242);
  f.add(lab1, lab());
  f.work(lab1, 0);
  // Heartbeats every 500 ms keep it ready well past the timeout.
  for (int i = 0; i < 20; ++i) {
    f.advance(500ms);
    f.tick(lab1);
  }
  CHECK(f.only().state == node_state::ready);
  // Silent: still ready before the timeout, lost within a poll after it.
  f.advance(3900ms);
  CHECK(f.only().state == node_state::ready);
  CHECK(f.only().heartbeat_age_ms == 3900);
  f.advance(1100ms);
  auto n = f.only();
  CHECK(n.state == node_state::lost);
  CHECK(n.lost_reason.rfind("no heartbeat for ", 0) == 0);
  CHECK(n.heartbeat_age_ms == 5000);
  // A frozen node that thaws before its link is closed: back to ready.
  f.tick(lab1);
  CHECK(f.only().state == node_state::ready);
  CHECK(f.only().lost_reason.empty());
}

TEST_CASE("a node lost before its workers asked for work comes back joining",
          "[actor][nodes]") {
  registry_fixture f;
  auto lab1 = remote_node(4242);
  f.add(lab1, lab());
  f.advance(5s);
  CHECK(f.only().state == node_state::lost);
  f.tick(lab1);
  CHECK(f.only().state == node_state::joining);
}

TEST_CASE("serve's own workers: a local node that needs no heartbeat", "[actor][nodes]") {
  registry_fixture f;
  f.add(f.sys.node(), lab("coord", 1));
  auto n = f.only();
  CHECK(n.address == "local");
  CHECK(n.state == node_state::joining);
  f.work(f.sys.node(), 0);
  f.advance(60s);
  n = f.only();
  CHECK(n.state == node_state::ready);
  CHECK(n.heartbeat_age_ms == -1);
  CHECK(n.heartbeat_unix_ms == -1);
  // The reader's down notice concerns other processes only.
  f.send(f.registry, seg::atom::lost::value, f.sys.node(), std::string("?"));
  f.run();
  CHECK(f.only().state == node_state::ready);
}

TEST_CASE("a restarted node is a new entry; lost ones beyond keep_lost are forgotten",
          "[actor][nodes]") {
  registry_fixture f; // keep_lost = 2
  // Messages about a node that never said hello change nothing.
  f.work(remote_node(1), 1);
  f.tick(remote_node(1));
  CHECK(f.nodes().empty());
  for (std::uint32_t pid = 100; pid < 104; ++pid) {
    f.add(remote_node(pid), lab());
    f.work(remote_node(pid), 1);
    f.send(f.registry, seg::atom::lost::value, remote_node(pid), std::string("killed"));
    f.run();
  }
  f.add(remote_node(104), lab());
  auto all = f.nodes();
  REQUIRE(all.size() == 3);
  CHECK(all[0].name == "lab1:102");
  CHECK(all[0].state == node_state::lost);
  CHECK(all[1].name == "lab1:103");
  CHECK(all[1].state == node_state::lost);
  CHECK(all[2].name == "lab1:104");
  CHECK(all[2].state == node_state::joining);
  CHECK(all[2].frames == 0);
}
