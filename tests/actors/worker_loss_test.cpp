// A worker lost while it holds a frame, on the deterministic scheduler: the
// real reader (real files, the flat in shared memory) and real workers, with
// stand-ins for the queue, the hub and the exporter. Lost once, the frame is
// the very next one handed out; lost twice, it fails as "worker lost twice"
// and the job goes on without it. The node registry hears from the reader
// which node's workers ask and segment, and which node's link is down.
#include "actors/reader.hpp"
#include "actors/segment_worker.hpp"

#include <memory>
#include <optional>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "tests/actors/reader_fixture.hpp"

namespace {

using seg::test::inbox;

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

TEST_CASE("the reader tells the node registry who asks for work, the frames each node "
          "segmented and a node whose supervisor is down",
          "[actor][reader][nodes]") {
  loss_fixture fx;
  auto first = fx.new_worker();
  auto second = fx.new_worker();
  fx.run();
  REQUIRE(fx.results().size() == 5);
  using notice = std::tuple<seg::atom::work, caf::node_id, std::uint32_t>;
  auto notices = fx.registry_box->all<seg::atom::work, caf::node_id, std::uint32_t>();
  // Each worker's first ask (0 frames), then one notice per frame done.
  std::uint32_t firsts = 0;
  std::uint32_t frames = 0;
  for (auto& n : notices) {
    CHECK(std::get<1>(n) == fx.sys.node());
    if (std::get<2>(n) == 0)
      ++firsts;
    else
      frames += std::get<2>(n);
  }
  CHECK(firsts == 2);
  CHECK(frames == 5);
  CHECK(notices.front() == notice{seg::atom::work::value, fx.sys.node(), 0});
  // A flat step is no frame: the flat's steps sent no notice.
  CHECK(notices.size() == 7);

  // A worker process's supervisor (segflow worker) goes down: its node is lost.
  auto supervisor_box = std::make_shared<inbox>();
  auto supervisor = fx.stand_in(supervisor_box);
  fx.send(fx.reader, seg::atom::join::value, supervisor, false);
  fx.run();
  CHECK(fx.registry_box->all<seg::atom::lost, caf::node_id, std::string>().empty());
  caf::anon_send_exit(supervisor, caf::exit_reason::kill);
  fx.run();
  auto lost = fx.registry_box->all<seg::atom::lost, caf::node_id, std::string>();
  REQUIRE(lost.size() == 1);
  CHECK(std::get<1>(lost[0]) == fx.sys.node());
  CHECK_FALSE(std::get<2>(lost[0]).empty());
}
