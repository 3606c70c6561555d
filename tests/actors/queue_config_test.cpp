// make_queue_config: the one place segment, serve and replay turn the run's
// settings into the queue's (replay once forgot frame_timeout_s).
#include "actors/queue.hpp"

#include <catch2/catch.hpp>

TEST_CASE("make_queue_config takes every pipeline setting the queue uses", "[queue]") {
  seg::config::sources src;
  src.overrides = {{"pipeline.reads_in_flight", "5"}, {"pipeline.frame_timeout_s", "7.5"}};
  auto settings = seg::config::load(src);
  auto cfg = seg::make_queue_config(settings, src, 6, 2);
  CHECK(cfg.reader.reads_ahead == 5);
  CHECK(cfg.reader.frame_timeout_s == 7.5);
  CHECK(cfg.reader.workers == 6);
  CHECK(cfg.workers == 2);
  REQUIRE(cfg.reader.base.overrides == src.overrides); // jobs load on top of these
  CHECK(cfg.state_file.empty());
  CHECK(cfg.prepare_next);
  // The defaults, as a run without settings gets them.
  auto plain = seg::make_queue_config(seg::config::load({}), {}, 1, 1);
  CHECK(plain.reader.frame_timeout_s == 120);
  CHECK(plain.reader.reads_ahead == std::uint32_t(seg::config::load({}).pipeline.reads_in_flight));
}
