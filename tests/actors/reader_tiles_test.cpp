// The reader with a tiled job, on the deterministic scheduler: the real
// reader and real workers (real files, the frame in shared memory), with
// stand-ins for the queue, the hub and the exporter; the test plays the tile
// stitcher's part (atom::stitched). A tiled frame is read by one worker
// first, its tiles go out only after that read's result, and no second
// frame is read while tiling.frames_in_flight frames wait for the stitcher.
// A tile or a frame read lost with its worker goes out again once; lost
// twice, the frame fails. A stitched frame's shared memory is freed.
#include "actors/reader.hpp"
#include "actors/segment_worker.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "actors/tile_codec.hpp"
#include "tests/actors/reader_fixture.hpp"

namespace {

using seg::work_kind;

constexpr std::uint64_t job = seg::test::reader_job_fixture::job;

bool shm_exists(const std::string& name) {
  return std::filesystem::exists("/dev/shm/" + name);
}

// 400×300 frames in 128×128 cores: 4 × 3 tiles.
constexpr int tiles_per_frame = 12;

std::vector<std::string> tiled(int frames_in_flight) {
  return {"tiling.max_frame_pixels=0", "tiling.tile_width=128", "tiling.tile_height=128",
          "tiling.frames_in_flight=" + std::to_string(frames_in_flight)};
}

struct tiled_fixture : seg::test::reader_job_fixture {
  explicit tiled_fixture(int frames_in_flight = 1, int frames = 3)
    : reader_job_fixture(frames, 6, tiled(frames_in_flight)) {}
  explicit tiled_fixture(const std::vector<std::string>& options)
    : reader_job_fixture(3, 6, options) {}

  seg::segment_worker_actor new_worker() {
    return spawn(seg::segment_worker, reader, exporter);
  }

  /// Runs until no actor has anything left to do; returns the tiled work
  /// (tile_read and tile items) handed to `w` meanwhile, in order.
  std::vector<seg::work_item> run_recording(const seg::segment_worker_actor& w) {
    std::vector<seg::work_item> out;
    for (;;) {
      if (auto m = next_as<seg::work_item>(w)) {
        auto& item = std::get<0>(*m);
        auto kind = work_kind(item.kind);
        if (kind == work_kind::tile_read || kind == work_kind::tile)
          out.push_back(item);
        expect<seg::work_item>(w);
        continue;
      }
      if (!sched.try_run_once())
        return out;
    }
  }

  /// Runs until `w`'s next message is tiled work of `kind`; returns it.
  seg::work_item run_until_handed(const seg::segment_worker_actor& w, work_kind kind) {
    std::optional<seg::work_item> item;
    run_until([&] {
      if (auto m = next_as<seg::work_item>(w))
        if (work_kind(std::get<0>(*m).kind) == kind)
          item = std::get<0>(*m);
      return item.has_value();
    });
    return *item;
  }

  /// Kills `w` (as a crashed worker process is lost) while the reader
  /// counts it holding its next item, and lets the reader see it go. The
  /// kill is queued behind the item: the worker takes it and starts, and
  /// is gone before its first step (a tile is segmented in one).
  void lose(const seg::segment_worker_actor& w) {
    auto down = watch(w);
    REQUIRE(next_as<seg::work_item>(w));
    caf::anon_send_exit(w, caf::exit_reason::kill);
    run();
    REQUIRE(down->has_value());
  }

  void stitched(std::uint32_t generation, std::uint32_t index) {
    send(reader, seg::atom::stitched::value, job, generation, index);
  }

  std::vector<seg::tile_frame> opened() const {
    std::vector<seg::tile_frame> out;
    for (auto& m : exporter_box->all<seg::atom::open, seg::tile_frame>())
      out.push_back(std::get<1>(m));
    return out;
  }

  std::vector<seg::tile_report> reports() const {
    return exporter_box->of<seg::tile_report>();
  }
};

// The items are frame `index`'s read, then its tiles in raster order.
void check_frame_items(const std::vector<seg::work_item>& items, std::size_t from,
                       std::uint32_t index) {
  REQUIRE(items.size() >= from + 1 + tiles_per_frame);
  CHECK(work_kind(items[from].kind) == work_kind::tile_read);
  CHECK(items[from].index == index);
  CHECK(items[from].grid.count() == tiles_per_frame);
  for (int t = 0; t < tiles_per_frame; ++t) {
    auto& item = items[from + 1 + std::size_t(t)];
    INFO("tile " << t);
    CHECK(work_kind(item.kind) == work_kind::tile);
    CHECK(item.index == index);
    CHECK(item.tile == t);
    CHECK(item.pixels_segment == items[from].pixels_segment);
    CHECK(item.threshold > 0); // the whole frame's, from its read
  }
}

} // namespace

TEST_CASE("reader: a tiled frame is read first, its tiles follow its read, the next frame "
          "waits for the stitcher",
          "[actor][reader][tiles]") {
  tiled_fixture fx(1);
  auto w = fx.new_worker();
  auto items = fx.run_recording(w);
  // Frame 0 only: read, then its 12 tiles; frame 1 is held back.
  REQUIRE(items.size() == 1 + tiles_per_frame);
  check_frame_items(items, 0, 0);
  auto opened = fx.opened();
  REQUIRE(opened.size() == 1);
  CHECK(opened[0].index == 0);
  CHECK(opened[0].pixels_segment == items[0].pixels_segment);
  CHECK(opened[0].threshold == items[1].threshold);
  CHECK(opened[0].grid.count() == tiles_per_frame);
  auto reports = fx.reports();
  REQUIRE(reports.size() == tiles_per_frame);
  for (auto& r : reports) {
    INFO("tile " << r.tile << ": " << r.error);
    CHECK(r.ok);
    CHECK(r.index == 0);
    CHECK(r.pixels == seg::to_layout(opened[0].grid).extent(r.tile).area());
  }
  CHECK(fx.results().empty()); // the stitcher makes the frame's result
  auto pixels0 = items[0].pixels_segment;
  CHECK(shm_exists(pixels0));

  // The stitcher is done with frame 0: its memory goes, frame 1 is read.
  fx.stitched(opened[0].generation, 0);
  items = fx.run_recording(w);
  CHECK_FALSE(shm_exists(pixels0));
  REQUIRE(items.size() == 1 + tiles_per_frame);
  check_frame_items(items, 0, 1);
  CHECK(items[0].pixels_segment != pixels0);

  // A repeated or stale stitched changes nothing.
  fx.stitched(opened[0].generation, 0);
  fx.stitched(opened[0].generation + 1, 1);
  CHECK(fx.run_recording(w).empty());
  CHECK(shm_exists(items[0].pixels_segment));

  fx.stitched(opened[0].generation, 1);
  auto last = fx.run_recording(w);
  REQUIRE(last.size() == 1 + tiles_per_frame);
  check_frame_items(last, 0, 2);
  fx.stitched(opened[0].generation, 2);
  CHECK(fx.run_recording(w).empty());
  CHECK_FALSE(shm_exists(items[0].pixels_segment));
  CHECK_FALSE(shm_exists(last[0].pixels_segment));
  CHECK(fx.opened().size() == 3);
  CHECK(fx.reports().size() == 3 * tiles_per_frame);
}

TEST_CASE("reader: with tiling.frames_in_flight = 2 the next frame is read before the "
          "first is stitched, not a third",
          "[actor][reader][tiles]") {
  tiled_fixture fx(2);
  auto w = fx.new_worker();
  auto items = fx.run_recording(w);
  REQUIRE(items.size() == 2 * (1 + tiles_per_frame));
  check_frame_items(items, 0, 0);
  check_frame_items(items, 1 + tiles_per_frame, 1);
  fx.stitched(fx.opened()[1].generation, 1);
  items = fx.run_recording(w);
  REQUIRE(items.size() == 1 + tiles_per_frame);
  check_frame_items(items, 0, 2);
}

struct budget_fixture : tiled_fixture {
  explicit budget_fixture(const std::string& memory_mb)
    : tiled_fixture(options(memory_mb)) {}
  static std::vector<std::string> options(const std::string& memory_mb) {
    auto o = tiled(2);
    o.push_back("tiling.frames_memory_mb=" + memory_mb);
    return o;
  }
};

TEST_CASE("reader: tiling.frames_memory_mb holds back a second frame that would not fit, "
          "never the first",
          "[actor][reader][tiles]") {
  // A 400x300 frame takes 0.34 MB of shared memory: 0.5 MB hold one, 0.1 MB none.
  for (auto memory_mb : {"0.5", "0.1"}) {
    INFO("frames_memory_mb = " << memory_mb);
    budget_fixture fx(memory_mb);
    auto w = fx.new_worker();
    auto items = fx.run_recording(w);
    REQUIRE(items.size() == 1 + tiles_per_frame);
    check_frame_items(items, 0, 0);
    fx.stitched(fx.opened()[0].generation, 0);
    items = fx.run_recording(w);
    REQUIRE(items.size() == 1 + tiles_per_frame);
    check_frame_items(items, 0, 1);
  }
  // 0.7 MB hold both, as with no bound in bytes (0).
  for (auto memory_mb : {"0.7", "0"}) {
    INFO("frames_memory_mb = " << memory_mb);
    budget_fixture fx(memory_mb);
    auto w = fx.new_worker();
    CHECK(fx.run_recording(w).size() == 2 * (1 + tiles_per_frame));
  }
}

TEST_CASE("reader: a tile lost with its worker goes out again; lost twice, its frame fails "
          "at the stitcher",
          "[actor][reader][tiles][loss]") {
  tiled_fixture fx(1, 2);
  auto first = fx.new_worker();
  auto lost = fx.run_until_handed(first, work_kind::tile);
  CHECK(lost.index == 0);
  CHECK(lost.tile == 0);
  fx.lose(first);
  CHECK(fx.reports().empty());

  auto second = fx.new_worker();
  // The lost tile goes out again before any other.
  auto again = fx.run_until_handed(second, work_kind::tile);
  CHECK(again.index == lost.index);
  CHECK(again.tile == lost.tile);
  CHECK(again.pixels_segment == lost.pixels_segment);

  SECTION("lost once: every tile of the frame is segmented once") {
    auto items = fx.run_recording(second);
    REQUIRE(items.size() == tiles_per_frame); // the first (again) was seen already
    auto reports = fx.reports();
    REQUIRE(reports.size() == tiles_per_frame);
    std::vector<int> seen(tiles_per_frame, 0);
    for (auto& r : reports) {
      INFO("tile " << r.tile << ": " << r.error);
      CHECK(r.ok);
      ++seen.at(std::size_t(r.tile));
    }
    CHECK(seen == std::vector<int>(tiles_per_frame, 1));
  }
  SECTION("lost twice: a failed report for the tile goes to the stitcher; its stitched "
          "drops the frame's other tiles") {
    fx.lose(second);
    auto reports = fx.reports();
    REQUIRE(reports.size() == 1);
    CHECK_FALSE(reports[0].ok);
    CHECK(reports[0].job_id == job);
    CHECK(reports[0].index == 0);
    CHECK(reports[0].tile == lost.tile);
    CHECK(reports[0].error
          == "worker lost twice while segmenting tile 0 of " + fx.acq.acq.frames.at(0).string());
    // The stitcher fails the frame and says so: its queued tiles are dropped
    // and its memory freed; the next frame is read.
    fx.stitched(lost.generation, 0);
    auto third = fx.new_worker();
    auto items = fx.run_recording(third);
    CHECK_FALSE(shm_exists(lost.pixels_segment));
    REQUIRE(items.size() == 1 + tiles_per_frame);
    check_frame_items(items, 0, 1);
  }
}

TEST_CASE("reader: a tiled frame's read lost with its worker is read again; lost twice, "
          "the frame fails and its memory is freed",
          "[actor][reader][tiles][loss]") {
  tiled_fixture fx(1, 2);
  auto first = fx.new_worker();
  auto lost = fx.run_until_handed(first, work_kind::tile_read);
  CHECK(lost.index == 0);
  fx.lose(first);
  CHECK(fx.results().empty());
  CHECK(fx.opened().empty());

  auto second = fx.new_worker();
  auto again = fx.run_until_handed(second, work_kind::tile_read);
  CHECK(again.index == 0);
  fx.lose(second);
  auto rs = fx.results();
  REQUIRE(rs.size() == 1);
  CHECK_FALSE(rs[0].ok);
  CHECK(rs[0].index == 0);
  CHECK(work_kind(rs[0].kind) == work_kind::segment);
  CHECK(rs[0].error == "worker lost twice while segmenting " + fx.acq.acq.frames.at(0).string());
  CHECK_FALSE(shm_exists(again.pixels_segment));
  CHECK(fx.opened().empty()); // the stitcher never had it

  // The job goes on with the next frame.
  auto third = fx.new_worker();
  auto items = fx.run_recording(third);
  REQUIRE(items.size() == 1 + tiles_per_frame);
  check_frame_items(items, 0, 1);
}

namespace {

// Whether this process still maps segment `name` (unlinked or not): its
// memory is given back only when no mapping is left.
bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find("/dev/shm/" + name) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("reader: once a job's last tiled frame is stitched, no worker keeps it mapped",
          "[actor][reader][tiles]") {
  tiled_fixture fx(1, 1);
  auto w = fx.new_worker();
  auto items = fx.run_recording(w);
  REQUIRE(items.size() == 1 + tiles_per_frame);
  REQUIRE(fx.reports().size() == tiles_per_frame);
  fx.stitched(fx.opened().at(0).generation, 0);
  CHECK(fx.run_recording(w).empty()); // the worker waits for work that never comes
  CHECK_FALSE(shm_exists(items[0].pixels_segment));
  CHECK_FALSE(mapped(items[0].pixels_segment));
}
