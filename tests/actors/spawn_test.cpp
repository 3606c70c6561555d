// Spawning: make_queue_config is the one place segment, serve and replay turn
// the run's settings into the queue's (replay once forgot frame_timeout_s),
// and every spawn_<role> refuses a bad configuration with a named error
// instead of spawning an actor that would fail later.
#include "actors/queue.hpp"

#include <limits>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/exporter.hpp"
#include "actors/lock_manager.hpp"
#include "actors/segment_worker.hpp"
#include "actors/status_hub.hpp"
#include "actors/type_ids.hpp"

using namespace seg;

namespace {

struct test_config : caf::actor_system_config {
  test_config() {
    register_message_types(*this);
    set("scheduler.max-threads", 2);
  }
};

// The text of a spawn's refusal.
template <class T>
std::string refusal(caf::actor_system& sys, const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  CHECK(x.error() == caf::sec::invalid_argument);
  return sys.render(x.error());
}

} // namespace

TEST_CASE("make_queue_config takes every pipeline setting the queue uses", "[queue]") {
  config::sources src;
  src.overrides = {{"pipeline.reads_in_flight", "5"}, {"pipeline.frame_timeout_s", "7.5"},
                   {"pipeline.decode_once", "false"}, {"pipeline.decode_band_rows", "3"}};
  auto settings = config::load(src);
  auto cfg = make_queue_config(settings, src, 6, 2);
  CHECK(cfg.reader.reads_ahead == 5);
  CHECK(cfg.reader.frame_timeout_s == 7.5);
  CHECK_FALSE(cfg.reader.decode_once);
  CHECK(cfg.reader.decode_band_rows == 3);
  CHECK(cfg.reader.workers == 6);
  CHECK(cfg.workers == 2);
  REQUIRE(cfg.reader.base.overrides == src.overrides); // jobs load on top of these
  CHECK(cfg.state_file.empty());
  CHECK(cfg.prepare_next);
  // The defaults, as a run without settings gets them.
  auto plain = make_queue_config(config::load({}), {}, 1, 1);
  CHECK(plain.reader.frame_timeout_s == 120);
  CHECK(plain.reader.decode_band_rows == config::load({}).pipeline.decode_band_rows);
  CHECK(plain.reader.reads_ahead == std::uint32_t(config::load({}).pipeline.reads_in_flight));
}

TEST_CASE("spawn functions refuse a bad configuration, naming it", "[queue][spawn]") {
  test_config cfg;
  caf::actor_system sys{cfg};
  auto hub = spawn_status_hub(sys);
  auto locks = spawn_lock_manager(sys, lock_manager_config{});
  REQUIRE(locks);
  auto good = make_queue_config(config::load({}), {}, 2, 1);
  REQUIRE_FALSE(validate(good, hub, *locks));

  SECTION("the queue") {
    auto bad = good;
    bad.reader.reads_ahead = 0;
    CHECK(refusal(sys, spawn_queue(sys, bad, hub, *locks)).find("reads_ahead")
          != std::string::npos);
    bad = good;
    bad.reader.frame_timeout_s = -1;
    CHECK(refusal(sys, spawn_queue(sys, bad, hub, *locks)).find("frame_timeout_s")
          != std::string::npos);
    bad.reader.frame_timeout_s = std::numeric_limits<double>::quiet_NaN();
    CHECK(refusal(sys, spawn_queue(sys, bad, hub, *locks)).find("frame_timeout_s")
          != std::string::npos);
    bad = good;
    bad.workers = 3; // more in-process workers than the reader cuts work for
    CHECK(refusal(sys, spawn_queue(sys, bad, hub, *locks)).find("3 in-process workers")
          != std::string::npos);
    CHECK(refusal(sys, spawn_queue(sys, good, status_hub_actor{}, *locks))
            .find("status hub") != std::string::npos);
    CHECK(refusal(sys, spawn_queue(sys, good, hub, lock_manager_actor{}))
            .find("lock manager") != std::string::npos);
  }

  SECTION("the reader, the exporter and a worker") {
    caf::scoped_actor self{sys};
    auto q = spawn_queue(sys, good, hub, *locks);
    REQUIRE(q);
    auto ex = spawn_exporter(sys, *q, hub);
    REQUIRE(ex);
    CHECK(refusal(sys, spawn_exporter(sys, queue_actor{}, hub)).find("exporter")
          != std::string::npos);
    reader_config rc = good.reader;
    CHECK(refusal(sys, spawn_reader(sys, rc, *q, hub)).find("exporter") != std::string::npos);
    rc.exporter = *ex;
    rc.reads_ahead = 0;
    CHECK(refusal(sys, spawn_reader(sys, rc, *q, hub)).find("reads_ahead")
          != std::string::npos);
    rc.reads_ahead = 1;
    auto rd = spawn_reader(sys, rc, *q, hub);
    REQUIRE(rd);
    CHECK(refusal(sys, spawn_segment_worker(sys, reader_actor{}, *ex)).find("reader")
          != std::string::npos);
    CHECK(refusal(sys, spawn_segment_worker(sys, *rd, exporter_actor{})).find("exporter")
          != std::string::npos);
    for (auto a : {caf::actor_cast<caf::actor>(*rd), caf::actor_cast<caf::actor>(*ex),
                   caf::actor_cast<caf::actor>(*q)}) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->wait_for(a);
    }
  }
  caf::anon_send_exit(*locks, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
}
