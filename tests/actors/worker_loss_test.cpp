// A worker that dies holding a frame: the reader hands the frame out again
// once; lost a second time, the frame fails (through the exporter) and the job
// still completes. Workers here join through the queue's atom::join, as a
// `segflow worker` process does.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <unistd.h>

#include "actors/lock_manager.hpp"
#include "actors/queue.hpp"
#include "actors/segment_worker.hpp"
#include "actors/status_hub.hpp"
#include "actors/type_ids.hpp"

namespace fs = std::filesystem;
using namespace seg;
using namespace std::chrono_literals;

namespace {

struct test_config : caf::actor_system_config {
  test_config() {
    register_message_types(*this);
    set("scheduler.max-threads", 2);
  }
};

// An acquisition of `frames` small frames with dark discs.
std::string make_acquisition(const fs::path& root, int frames) {
  auto dir = root / "img" / "20250101" / "sample" / "acq";
  fs::create_directories(dir);
  std::ofstream(dir / "metadata.json")
    << R"({"sample_project":"p","sample_id":"sample","acq_id":"acq",)"
    << R"("acq_camera_resolution":"160x120","process_pixel":0.75})";
  for (int i = 0; i < frames; ++i) {
    cv::Mat img(120, 160, CV_8UC3, cv::Scalar(205, 210, 200));
    cv::circle(img, cv::Point(30 + 4 * i, 40), 9, cv::Scalar(40, 60, 50), cv::FILLED);
    char file[64];
    std::snprintf(file, sizeof file, "2025-01-01_00-00-%02d-000000.jpg", i);
    cv::imwrite((dir / file).string(), img);
  }
  return dir.string();
}

// Stands between a real segment worker and the reader, so the reader sees
// this actor as the worker: it passes flat-field work through and dies
// holding the first frame it is given, as a crashed worker process would.
reader_actor::behavior_type crashing_gate(reader_actor::pointer self, reader_actor reader) {
  return {
    [=](atom::open, const job_spec& spec) {
      return self->delegate(reader, atom::open::value, spec);
    },
    [=](atom::run, std::uint64_t id, const frame_indices& skip) {
      self->send(reader, atom::run::value, id, skip);
    },
    [=](atom::work) -> caf::result<work_item> {
      auto rp = self->make_response_promise<work_item>();
      self->request(reader, caf::infinite, atom::work::value)
        .then(
          [=](work_item& item) mutable {
            if (work_kind(item.kind) == work_kind::segment)
              self->quit(caf::exit_reason::kill);
            else
              rp.deliver(std::move(item));
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [=](const frame_result& r) { self->send(reader, r); },
    [=](atom::stop, std::uint64_t id) { self->send(reader, atom::stop::value, id); },
    [=](atom::prefetch) {},
  };
}

} // namespace

TEST_CASE("a frame whose worker dies is handed out again once, then fails",
          "[actors][worker_loss]") {
  auto root = fs::temp_directory_path()
              / ("segflow-worker-loss-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  auto acq = make_acquisition(root, 6);
  {
    test_config cfg;
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    auto hub = spawn_status_hub(sys);
    auto locks = spawn_lock_manager(sys, lock_manager_config{});
    REQUIRE(locks);
    queue_config qc;
    qc.workers = 0; // only the workers this test spawns
    qc.reader.workers = 1;
    auto q = spawn_queue(sys, qc, hub, *locks);

    reader_actor reader;
    exporter_actor exporter;
    self->request(q, 10s, atom::join::value)
      .receive(
        [&](reader_actor& r, exporter_actor& e) {
          reader = r;
          exporter = e;
        },
        [&](caf::error& err) { FAIL(sys.render(err)); });
    REQUIRE(reader);
    REQUIRE(exporter);

    job_spec spec;
    spec.path = acq;
    std::uint64_t id = 0;
    self->request(q, 10s, atom::add::value, spec)
      .receive([&](std::uint64_t x) { id = x; }, [&](caf::error& err) { FAIL(sys.render(err)); });

    // Two crashing workers in turn: the first computes the flat and dies with
    // the first frame, the second is handed that frame again and dies too.
    for (int round = 0; round < 2; ++round) {
      auto gate = sys.spawn(crashing_gate, reader);
      auto worker = sys.spawn<caf::detached>(segment_worker, gate, exporter);
      self->wait_for(gate);
      // Its pull to the dead gate would only time out after 30 s.
      self->send_exit(worker, caf::exit_reason::kill);
      self->wait_for(worker);
      std::this_thread::sleep_for(200ms); // the reader takes the down message first
    }
    auto good = sys.spawn<caf::detached>(segment_worker, reader, exporter);

    job_record j;
    auto end = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      self->request(q, 10s, atom::status::value, id)
        .receive([&](job_record& x) { j = x; }, [&](caf::error& err) { FAIL(sys.render(err)); });
      auto s = job_state(j.summary.state);
      if (s == job_state::done || s == job_state::failed || s == job_state::interrupted)
        break;
      REQUIRE(std::chrono::steady_clock::now() < end);
      std::this_thread::sleep_for(20ms);
    }
    CHECK(j.summary.frames_total == 6);
    CHECK(j.summary.frames_failed == 1);
    CHECK(j.summary.frames_done + j.summary.frames_failed == 6);
    REQUIRE(j.summary.failures.size() == 1);
    // The first frame in name order is the first handed out.
    auto first = (fs::path(acq) / "2025-01-01_00-00-00-000000.jpg").string();
    CHECK(j.summary.failures[0].find("worker lost twice while segmenting " + first)
          != std::string::npos);

    for (auto a : {caf::actor_cast<caf::actor>(good), caf::actor_cast<caf::actor>(q),
                   caf::actor_cast<caf::actor>(*locks), caf::actor_cast<caf::actor>(hub)}) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->wait_for(a);
    }
  }
  fs::remove_all(root);
}
