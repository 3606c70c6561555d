// A worker lost while it holds a frame, on the deterministic scheduler: the
// real reader (real files, the flat in shared memory) and real workers, with
// stand-ins for the queue, the hub and the exporter. Lost once, the frame is
// the very next one handed out; lost twice, it fails as "worker lost twice"
// and the job goes on without it.
#include "actors/reader.hpp"
#include "actors/segment_worker.hpp"

#include <memory>
#include <optional>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "tests/actors/reader_fixture.hpp"

namespace {

constexpr std::uint64_t job = seg::test::reader_job_fixture::job;

// No time limit: losses only.
struct loss_fixture : seg::test::reader_job_fixture {
  loss_fixture() : reader_job_fixture(5, 4) {}

  seg::segment_worker_actor new_worker() {
    return spawn(seg::segment_worker, reader, exporter);
  }

  /// Runs until `w`'s next message is a frame to segment; returns its index.
  std::uint32_t run_until_handed_a_frame(const seg::segment_worker_actor& w) {
    std::optional<std::uint32_t> index;
    run_until([&] {
      if (auto m = next_as<seg::work_item>(w))
        if (seg::work_kind(std::get<0>(*m).kind) == seg::work_kind::segment)
          index = std::get<0>(*m).index;
      return index.has_value();
    });
    return *index;
  }

  /// Lets `w` take the frame and start on it, then kills it (as a crashed
  /// worker process is lost) and lets the reader see it go.
  void lose(const seg::segment_worker_actor& w) {
    auto down = watch(w);
    expect<seg::work_item>(w);
    expect<seg::atom::step>(w); // one step done: the frame is half-made
    caf::anon_send_exit(w, caf::exit_reason::kill);
    run();
    REQUIRE(down->has_value());
  }
};

} // namespace

TEST_CASE("a worker lost with a frame: requeued once, failed the second time",
          "[actor][reader][loss]") {
  loss_fixture fx;
  auto first = fx.new_worker();
  auto lost = fx.run_until_handed_a_frame(first);
  fx.lose(first);
  CHECK(fx.results().empty()); // nothing reported for it yet

  auto second = fx.new_worker();
  // The lost frame goes out again before any other.
  CHECK(fx.run_until_handed_a_frame(second) == lost);

  SECTION("lost once: the frame is segmented by the next worker") {
    fx.run();
    auto rs = fx.results();
    REQUIRE(rs.size() == 5);
    for (auto& r : rs) {
      INFO(r.name << ": " << r.error);
      CHECK(r.ok);
    }
    CHECK(rs[0].index == lost);
  }
  SECTION("lost twice: the frame fails, the job goes on") {
    fx.lose(second);
    auto rs = fx.results();
    REQUIRE(rs.size() == 1);
    CHECK_FALSE(rs[0].ok);
    CHECK(rs[0].index == lost);
    CHECK(rs[0].job_id == job);
    CHECK(rs[0].error
          == "worker lost twice while segmenting " + fx.acq.acq.frames.at(lost).string());
    auto third = fx.new_worker();
    fx.run();
    rs = fx.results();
    REQUIRE(rs.size() == 5);
    for (std::size_t i = 1; i < rs.size(); ++i) {
      INFO(rs[i].name << ": " << rs[i].error);
      CHECK(rs[i].ok);
      CHECK(rs[i].index != lost);
    }
  }
}
