// Paths mode on the deterministic scheduler: the real reader and a real
// worker of a node whose data root holds the acquisition. The node's first
// frame of the job (past the flat's stacked ones) comes with its bytes; the
// worker reads the same path, finds it equal and tells the reader, which
// sends the job's later frames without bytes: the worker reads them itself
// and every frame is segmented. A node whose copy differs says so, and its
// frames keep their bytes.
#include "actors/reader.hpp"
#include "actors/segment_worker.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>

#include <catch2/catch.hpp>

#include "actors/io/node_paths.hpp"
#include "tests/actors/reader_fixture.hpp"

namespace {

constexpr std::uint64_t job = seg::test::reader_job_fixture::job;
constexpr int frames = 14; // more than the flat's 9: five are decoded from bytes

struct paths_fixture : seg::test::reader_job_fixture {
  paths_fixture() : reader_job_fixture(frames, 4) {}

  /// Runs the job to its end with `w`; returns, by frame index, whether
  /// the frame was handed to `w` with its bytes (frames decoded from the
  /// flat's stack slots left out).
  std::map<std::uint32_t, bool> run_job(const seg::segment_worker_actor& w) {
    std::map<std::uint32_t, bool> with_bytes;
    run_until([&] {
      if (auto m = next_as<seg::work_item>(w)) {
        auto& item = std::get<0>(*m);
        if (item.kind == seg::work_kind::segment && item.stack_slot < 0)
          with_bytes[item.index] = !item.bytes.empty();
      }
      return results().size() == std::size_t(frames);
    });
    return with_bytes;
  }
};

} // namespace

TEST_CASE("paths mode: a node verifies its data root once, then gets paths",
          "[actor][reader][paths]") {
  paths_fixture fx;
  auto paths = std::make_shared<seg::io::node_paths>(std::vector<std::string>{fx.acq.dir()});
  auto counter = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto w = fx.spawn(seg::node_segment_worker, fx.reader, fx.exporter,
                    std::function<void(const std::string&)>{}, counter, paths);
  auto with_bytes = fx.run_job(w);
  REQUIRE(with_bytes.size() == std::size_t(frames - 9));
  auto first = with_bytes.begin();
  CHECK(first->second); // the one checked: with bytes
  for (auto it = std::next(first); it != with_bytes.end(); ++it) {
    INFO("frame " << it->first);
    CHECK_FALSE(it->second); // as a path
  }
  CHECK(paths->reads() == std::uint64_t(frames - 10));
  for (auto& r : fx.results()) {
    INFO(r.name << ": " << r.error);
    CHECK(r.ok);
  }
}

TEST_CASE("paths mode: a node whose copy differs keeps getting bytes",
          "[actor][reader][paths]") {
  paths_fixture fx;
  auto reader = fx.reader;
  fx.spawn([reader](caf::event_based_actor* self) {
    self->send(reader, seg::atom::paths::value, job, std::string("frame"),
               std::string("frame is 1 bytes here, 2 on serve"));
  });
  fx.run();
  auto w = fx.spawn(seg::segment_worker, fx.reader, fx.exporter);
  auto with_bytes = fx.run_job(w);
  REQUIRE(with_bytes.size() == std::size_t(frames - 9));
  for (auto& [index, bytes] : with_bytes) {
    INFO("frame " << index);
    CHECK(bytes);
  }
}
