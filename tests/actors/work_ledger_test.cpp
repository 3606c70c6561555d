// The reader's work ledger on its own, with numbers for workers and
// explicit times: holds end with the next ask, a lost worker gives its item
// back, the second loss of an item is told apart from the first, overdue
// items are taken out and their workers abandoned until they ask again.
#include "actors/work_ledger.hpp"

#include <chrono>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using ledger = seg::work_ledger<int>;
using seg::held_item;
using seg::work_kind;

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

held_item item(std::uint64_t job, work_kind kind, std::uint32_t index,
               std::chrono::steady_clock::time_point since = t0) {
  held_item h;
  h.job_id = job;
  h.generation = 1;
  h.kind = kind;
  h.index = index;
  h.since = since;
  return h;
}

} // namespace

TEST_CASE("work ledger: a worker's next ask ends its hold", "[ledger]") {
  ledger l;
  CHECK(l.asks(1));       // first ask: watch it
  CHECK_FALSE(l.asks(1)); // already known
  CHECK_FALSE(l.holding());
  l.hold(1, item(7, work_kind::segment, 4));
  CHECK(l.holding());
  CHECK_FALSE(l.asks(1));
  CHECK_FALSE(l.holding());
  l.hold(1, item(7, work_kind::flat_decode, 2));
  l.release(1); // a flat step's result ends the hold too
  CHECK_FALSE(l.holding());
  CHECK(l.workers() == std::set<int>{1});
}

TEST_CASE("work ledger: held_of copies what a lost item needs", "[ledger]") {
  seg::work_item w;
  w.kind = work_kind::flat_band;
  w.job_id = 9;
  w.generation = 3;
  w.index = 5;
  w.row_begin = 100;
  w.row_end = 200;
  auto h = seg::held_of(w, t0);
  CHECK(h.kind == work_kind::flat_band);
  CHECK(h.job_id == 9);
  CHECK(h.generation == 3);
  CHECK(h.index == 5);
  CHECK(h.row_begin == 100);
  CHECK(h.row_end == 200);
  CHECK(h.since == t0);
}

TEST_CASE("work ledger: the lowest frame in flight of a job's generation", "[ledger]") {
  ledger l;
  CHECK_FALSE(l.lowest_frame(7, 1));
  l.hold(1, item(7, work_kind::segment, 12));
  l.hold(2, item(7, work_kind::segment, 9));
  l.hold(3, item(7, work_kind::flat_decode, 0)); // a stack slot, not a frame
  l.hold(4, item(8, work_kind::segment, 1));     // another job
  auto old = item(7, work_kind::segment, 2);
  old.generation = 0;                            // a superseded flat
  l.hold(5, old);
  CHECK(l.lowest_frame(7, 1) == 9u);
  CHECK(l.lowest_frame(8, 1) == 1u);
  CHECK(l.lowest_frame(7, 0) == 2u);
  l.asks(2);
  CHECK(l.lowest_frame(7, 1) == 12u);
}

TEST_CASE("work ledger: a lost worker gives its item back, once per loss", "[ledger]") {
  ledger l;
  l.asks(1);
  l.asks(2);
  l.hold(1, item(7, work_kind::segment, 4));
  auto lost = l.lost(1);
  REQUIRE(lost);
  CHECK(lost->index == 4);
  CHECK(l.workers() == std::set<int>{2});
  CHECK_FALSE(l.lost(1)); // gone already: nothing more to give back
  CHECK_FALSE(l.lost(2)); // held nothing
  CHECK(l.workers().empty());

  // Lost once: out again; the same item lost again: it fails.
  CHECK_FALSE(l.lost_before(*lost));
  CHECK(l.lost_before(*lost));
  // Other frames, kinds and jobs count on their own.
  CHECK_FALSE(l.lost_before(item(7, work_kind::segment, 5)));
  CHECK_FALSE(l.lost_before(item(7, work_kind::flat_decode, 4)));
  CHECK_FALSE(l.lost_before(item(8, work_kind::segment, 4)));
  // A band is known by its first row, whatever its index.
  auto band = item(7, work_kind::flat_band, 0);
  band.row_begin = 380;
  CHECK_FALSE(l.lost_before(band));
  band.index = 3;
  CHECK(l.lost_before(band));
  // A stopped job's losses are forgotten, other jobs' are not.
  l.forget_job(7);
  CHECK_FALSE(l.lost_before(item(7, work_kind::segment, 4)));
  CHECK(l.lost_before(item(8, work_kind::segment, 4)));
}

TEST_CASE("work ledger: a tile's losses are its own, by frame and tile", "[ledger][tiles]") {
  ledger l;
  auto tile = [](std::uint32_t frame, std::int32_t t) {
    auto h = item(7, work_kind::tile, frame);
    h.tile = t;
    return h;
  };
  l.asks(1);
  seg::work_item w;
  w.kind = work_kind::tile;
  w.job_id = 7;
  w.index = 2;
  w.tile = 5;
  l.hold(1, seg::held_of(w, t0));
  auto lost = l.lost(1);
  REQUIRE(lost);
  CHECK(lost->tile == 5); // held_of keeps the tile
  CHECK_FALSE(l.lost_before(*lost));
  // Other tiles of the frame, the same tile of other frames, the frame's
  // read and an untiled item of the frame count on their own.
  CHECK_FALSE(l.lost_before(tile(2, 4)));
  CHECK_FALSE(l.lost_before(tile(2, 6)));
  CHECK_FALSE(l.lost_before(tile(3, 5)));
  CHECK_FALSE(l.lost_before(tile(5, 2))); // (frame, tile) swapped
  CHECK_FALSE(l.lost_before(item(7, work_kind::tile_read, 2)));
  CHECK_FALSE(l.lost_before(item(7, work_kind::segment, 2)));
  // The same tile again, of any generation: the second loss.
  auto later = tile(2, 5);
  later.generation = 2;
  CHECK(l.lost_before(later));
  CHECK(l.lost_before(item(7, work_kind::tile_read, 2)));
  l.forget_job(7);
  CHECK_FALSE(l.lost_before(tile(2, 5)));
}

TEST_CASE("work ledger: overdue items are taken out, their workers abandoned", "[ledger]") {
  ledger l;
  l.hold(1, item(7, work_kind::segment, 1, t0));
  l.hold(2, item(7, work_kind::segment, 2, t0 + 5s));
  l.hold(3, item(7, work_kind::flat_band, 0, t0 + 1s));
  CHECK(l.take_overdue(t0 + 10s, 10s).empty()); // exactly at the limit: not yet
  auto overdue = l.take_overdue(t0 + 11500ms, 10s);
  REQUIRE(overdue.size() == 2);
  CHECK(overdue[0].first == 1);
  CHECK(overdue[1].first == 3);
  CHECK(overdue[1].second.kind == work_kind::flat_band);
  CHECK(l.take_overdue(t0 + 11500ms, 10s).empty()); // taken once only
  CHECK(l.abandoned(1));
  CHECK(l.abandoned(3));
  CHECK_FALSE(l.abandoned(2));
  CHECK(l.lowest_frame(7, 1) == 2u);
  // An abandoned worker's next ask is forgiven once (it is told to quit).
  CHECK(l.forgive(1));
  CHECK_FALSE(l.forgive(1));
  CHECK_FALSE(l.abandoned(1));
  // A lost worker is forgotten with its abandonment.
  CHECK(l.lost(3) == std::nullopt);
  CHECK_FALSE(l.abandoned(3));
}
