#pragma once

// The queue test's fixture: a queue on the deterministic scheduler with the
// real pipeline, and small acquisitions written by the test (see
// queue_test.cpp).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <caf/exit_reason.hpp>
#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "actors/io/queue_store.hpp"
#include "actors/lock_manager.hpp"
#include "actors/queue.hpp"
#include "actors/segment_worker.hpp"
#include "actors/status_hub.hpp"
#include "tests/actors/fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace seg::test::queue_fx {

namespace fs = std::filesystem;
using namespace seg;


// An acquisition folder <root>/img/20250101/sample/<name> with `frames` small
// JPEG frames: a light background with dark discs that move between frames.
// Its acq_id is `name` unless `acq_id` is given (two folders with one
// acq_id share an archive path).
inline std::string make_acquisition(const fs::path& root, const std::string& name,
                                    int frames = 8, const std::string& acq_id = "") {
  auto dir = root / "img" / "20250101" / "sample" / name;
  fs::create_directories(dir);
  std::ofstream(dir / "metadata.json")
    << R"({"sample_project":"p","sample_id":"sample","acq_id":")"
    << (acq_id.empty() ? name : acq_id)
    << R"(","acq_camera_resolution":"160x120","process_pixel":0.75})";
  for (int i = 0; i < frames; ++i) {
    cv::Mat img(120, 160, CV_8UC3, cv::Scalar(205, 210, 200));
    for (int k = 0; k < 3; ++k)
      cv::circle(img, cv::Point(20 + 45 * k + 3 * i, 30 + 25 * k), 7 + k,
                 cv::Scalar(40, 60, 50), cv::FILLED);
    char file[64];
    std::snprintf(file, sizeof file, "2025-01-01_00-00-%02d-000000.jpg", i);
    cv::imwrite((dir / file).string(), img);
  }
  return dir.string();
}

struct fixture : seg::test::fixture {
  seg::test::temp_dir root{"segflow-queue-test"};
  status_hub_actor hub = adopt(spawn_status_hub(sys));
  lock_manager_actor locks;
  queue_actor q;
  std::string state_file = (root.path / "state" / io::queue_file_name).string();
  std::string state_dir; ///< the operations journal's, if set before start

  fixture() {
    fs::create_directories(root.path / "state");
    auto l = spawn_lock_manager(sys, lock_manager_config{});
    REQUIRE(l);
    locks = adopt(*l);
  }

  void start(io::queue_snapshot initial) {
    queue_config qc;
    qc.workers = 0; // the worker joins below
    qc.reader.workers = 1;
    qc.state_file = state_file;
    qc.state_dir = state_dir;
    qc.initial = std::move(initial);
    auto spawned = spawn_queue(sys, qc, hub, locks);
    REQUIRE(spawned);
    q = adopt(*spawned);
    auto peers = request<reader_actor, exporter_actor>(q, atom::join::value);
    REQUIRE(peers);
    spawn(segment_worker, std::get<0>(*peers), std::get<1>(*peers));
  }

  void start_paused() {
    io::queue_snapshot initial;
    initial.paused = true;
    start(initial);
  }

  void stop_queue_actor() {
    auto down = watch(q);
    caf::anon_send_exit(q, caf::exit_reason::user_shutdown);
    run();
    REQUIRE(down->has_value());
  }

  // Sends a request and runs until it is answered: the value, or the error
  // text.
  template <class T, class... Ts>
  std::pair<std::optional<T>, std::string> ask(Ts... xs) {
    auto r = seg::test::fixture::ask<T>(q, xs...);
    if (r)
      return {std::move(*r), ""};
    auto& ctx = r.error().context();
    return {std::nullopt, ctx.size() == 1 && ctx.template match_element<std::string>(0)
                            ? ctx.template get_as<std::string>(0)
                            : sys.render(r.error())};
  }

  queue_listing list() {
    auto [all, err] = ask<queue_listing>(atom::list::value);
    REQUIRE(all);
    return *all;
  }

  job_record status(std::uint64_t id) {
    auto [j, err] = ask<job_record>(atom::status::value, id);
    REQUIRE(j);
    return *j;
  }

  static std::vector<job_spec> specs_of(const std::vector<std::string>& paths) {
    std::vector<job_spec> specs;
    for (auto& p : paths) {
      job_spec s;
      s.path = p;
      specs.push_back(s);
    }
    return specs;
  }

  std::vector<std::uint64_t> add(std::vector<std::string> paths) {
    auto [ids, err] = ask<std::vector<std::uint64_t>>(atom::add::value, specs_of(paths));
    INFO(err);
    REQUIRE(ids);
    return *ids;
  }

  std::string add_error(std::vector<std::string> paths) {
    auto [ids, err] = ask<std::vector<std::uint64_t>>(atom::add::value, specs_of(paths));
    CHECK_FALSE(ids);
    return err;
  }

  // Runs the actors until none has anything left to do; job `id` must then
  // be in `state`.
  job_record run_until_state(std::uint64_t id, job_state state) {
    run();
    auto j = status(id);
    INFO("job " << id << " is " << to_string(job_state(j.summary.state)));
    REQUIRE(job_state(j.summary.state) == state);
    return j;
  }

  std::vector<job_summary> wait_idle() {
    auto all = seg::test::fixture::ask<std::vector<job_summary>>(q, atom::wait::value);
    REQUIRE(all);
    return *all;
  }
};

inline std::vector<std::uint64_t> order_of(const queue_listing& all) {
  std::vector<std::uint64_t> out;
  for (auto& j : all.jobs)
    out.push_back(j.spec.id);
  return out;
}

inline std::vector<std::uint32_t> positions_of(const queue_listing& all) {
  std::vector<std::uint32_t> out;
  for (auto& j : all.jobs)
    out.push_back(j.position);
  return out;
}

inline job_state state_of(const job_record& j) {
  return job_state(j.summary.state);
}

} // namespace seg::test::queue_fx
