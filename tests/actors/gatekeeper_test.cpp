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

struct gatekeeper_fixture : fixture {
  std::shared_ptr<inbox> queue_box = std::make_shared<inbox>();
  seg::queue_control_actor queue = stand_in<seg::queue_control_actor>(queue_box);
  seg::gatekeeper_actor gate = adopt(seg::spawn_gatekeeper(sys, queue, serve_token));
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

TEST_CASE("a worker's hello with the token gets the queue's reader and exporter",
          "[actor]") {
  gatekeeper_fixture f;
  auto reader_box = std::make_shared<inbox>();
  auto exporter_box = std::make_shared<inbox>();
  auto reader = f.stand_in<seg::reader_actor>(reader_box);
  auto exporter = f.stand_in<seg::exporter_actor>(exporter_box);
  f.queue_box->answers.push_back(caf::make_message(reader, exporter));
  auto handles = f.request<seg::reader_actor, seg::exporter_actor>(
    f.gate, seg::atom::hello::value, seg::atom::join::value, serve_token);
  REQUIRE(handles);
  CHECK(std::get<0>(*handles) == reader);
  CHECK(std::get<1>(*handles) == exporter);
  // Delegated: the queue answered the join itself.
  REQUIRE(f.queue_box->messages.size() == 1);
  CHECK(f.queue_box->messages[0].match_elements<seg::atom::join>());
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
    auto handles = f.request<seg::reader_actor, seg::exporter_actor>(
      f.gate, seg::atom::hello::value, seg::atom::join::value, token);
    REQUIRE_FALSE(handles);
    CHECK(handles.error() == seg::ec::not_authorized);
  }
  CHECK(f.queue_box->messages.empty()); // nothing reached the queue
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
