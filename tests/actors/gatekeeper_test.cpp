// The gatekeeper (actors/gatekeeper.hpp) on the deterministic fixture: the
// queue behind it is a stand-in, so each test sees exactly which requests
// reach the queue (none for a refused hello).

#include "actors/gatekeeper.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "actors/error.hpp"
#include "tests/actors/fixture.hpp"

namespace {

using seg::test::fixture;
using seg::test::inbox;

const std::string serve_token(64, 'a');

seg::node_info serve_host() {
  seg::node_info n;
  n.host = "coord";
  n.version = "1.2.3";
  n.boot_id = "boot-1";
  n.shm_device = 10;
  n.shm_inode = 20;
  return n;
}

// A node on another host (another boot id) unless said otherwise.
seg::node_info node(std::string version = "1.2.3", std::string boot = "boot-2") {
  auto n = serve_host();
  n.host = "lab1";
  n.version = std::move(version);
  n.boot_id = std::move(boot);
  n.workers = 2;
  return n;
}

struct gatekeeper_fixture : fixture {
  std::shared_ptr<inbox> queue_box = std::make_shared<inbox>();
  seg::queue_control_actor queue = stand_in<seg::queue_control_actor>(queue_box);
  std::shared_ptr<inbox> flats_box = std::make_shared<inbox>();
  seg::flat_source_actor flats = stand_in<seg::flat_source_actor>(flats_box);
  std::shared_ptr<inbox> registry_box = std::make_shared<inbox>();
  seg::node_registry_actor registry = stand_in<seg::node_registry_actor>(registry_box);
  seg::gatekeeper_actor gate =
    adopt(seg::spawn_gatekeeper(sys, queue, flats, registry, serve_host(), serve_token));

  using welcome = std::tuple<seg::reader_actor, seg::exporter_actor, seg::flat_source_actor,
                             seg::node_registry_actor, bool>;
  caf::expected<welcome> join(const std::string& token, const seg::node_info& n) {
    return request<seg::reader_actor, seg::exporter_actor, seg::flat_source_actor,
                   seg::node_registry_actor, bool>(gate, seg::atom::hello::value,
                                                   seg::atom::join::value, token, n);
  }
};

} // namespace

TEST_CASE("a hello with serve's token gets the queue's control handle", "[actor]") {
  gatekeeper_fixture f;
  auto q = f.ask<seg::queue_control_actor>(f.gate, seg::atom::hello::value,
                                           seg::atom::control::value, serve_token);
  REQUIRE(q);
  CHECK(*q == f.queue);
  CHECK(f.queue_box->messages.empty()); // the queue itself was not asked
}

TEST_CASE("a worker node's hello with the token gets the reader, the exporter, the flat "
          "source and the node registry (which it is added to), and whether it shares "
          "serve's memory",
          "[actor]") {
  gatekeeper_fixture f;
  auto reader_box = std::make_shared<inbox>();
  auto exporter_box = std::make_shared<inbox>();
  auto reader = f.stand_in<seg::reader_actor>(reader_box);
  auto exporter = f.stand_in<seg::exporter_actor>(exporter_box);
  f.queue_box->answers.push_back(caf::make_message(reader, exporter));
  f.queue_box->answers.push_back(caf::make_message(reader, exporter));
  f.queue_box->answers.push_back(caf::make_message(reader, exporter));
  auto remote = f.join(serve_token, node());
  REQUIRE(remote);
  CHECK(std::get<0>(*remote) == reader);
  CHECK(std::get<1>(*remote) == exporter);
  CHECK(std::get<2>(*remote) == f.flats);
  CHECK(std::get<3>(*remote) == f.registry);
  CHECK_FALSE(std::get<4>(*remote)); // another boot: another host
  // The queue answered the join.
  REQUIRE(f.queue_box->messages.size() == 1);
  CHECK(f.queue_box->messages[0].match_elements<seg::atom::join>());
  // The registry knows the node by the CAF node it said hello from.
  auto added = f.registry_box->all<seg::atom::add, caf::node_id, seg::node_info>();
  REQUIRE(added.size() == 1);
  CHECK(std::get<1>(added[0]) == f.sys.node());
  CHECK(std::get<2>(added[0]).host == "lab1");
  CHECK(std::get<2>(added[0]).workers == 2);
  // Same boot and /dev/shm: serve's host; same boot, another /dev/shm: a
  // mount namespace with a private one.
  auto same = f.join(serve_token, node("1.2.3", "boot-1"));
  REQUIRE(same);
  CHECK(std::get<4>(*same));
  auto other_shm = node("1.2.3", "boot-1");
  other_shm.shm_inode = 21;
  auto ns = f.join(serve_token, other_shm);
  REQUIRE(ns);
  CHECK_FALSE(std::get<4>(*ns));
}

TEST_CASE("a worker node of another segflow version is refused, naming both versions",
          "[actor]") {
  gatekeeper_fixture f;
  auto r = f.join(serve_token, node("1.2.4"));
  REQUIRE_FALSE(r);
  CHECK(r.error() == seg::ec::bad_request);
  auto text = seg::error_text(r.error());
  CHECK(text.find("1.2.4") != std::string::npos);
  CHECK(text.find("1.2.3") != std::string::npos);
  CHECK(f.queue_box->messages.empty()); // it never reached the queue
  CHECK(f.registry_box->messages.empty()); // nor the registry
}

TEST_CASE("a wrong, short, long or missing token gets an error and no handle", "[actor]") {
  gatekeeper_fixture f;
  auto wrong = serve_token;
  wrong.back() = 'b';
  for (const std::string& token :
       {wrong, std::string(), serve_token.substr(0, 63), serve_token + "a",
        std::string(64, '\0')}) {
    CAPTURE(token.size());
    auto q = f.ask<seg::queue_control_actor>(f.gate, seg::atom::hello::value,
                                             seg::atom::control::value, token);
    REQUIRE_FALSE(q);
    CHECK(q.error() == seg::ec::not_authorized);
    CHECK(seg::error_text(q.error()).find(serve_token) == std::string::npos);
    auto handles = f.join(token, node());
    REQUIRE_FALSE(handles);
    CHECK(handles.error() == seg::ec::not_authorized);
  }
  CHECK(f.queue_box->messages.empty()); // nothing reached the queue
  CHECK(f.registry_box->messages.empty()); // no node was registered
}

TEST_CASE("the gatekeeper answers nothing but a hello", "[actor]") {
  gatekeeper_fixture f;
  // What a client would ask the queue directly, sent to the gatekeeper.
  auto untyped = caf::actor_cast<caf::actor>(f.gate);
  auto listing = f.ask<seg::queue_listing>(untyped, seg::atom::list::value);
  REQUIRE_FALSE(listing);
  CHECK(listing.error() == caf::sec::unexpected_message);
  auto joined = f.request<seg::reader_actor, seg::exporter_actor>(untyped,
                                                                 seg::atom::join::value);
  REQUIRE_FALSE(joined);
  CHECK(joined.error() == caf::sec::unexpected_message);
  CHECK(f.queue_box->messages.empty());
  // Still there for a good hello.
  CHECK(f.ask<seg::queue_control_actor>(f.gate, seg::atom::hello::value,
                                        seg::atom::control::value, serve_token));
}
