// The queue on a real actor system with the real pipeline (reader, workers,
// exporter, lock manager) on small acquisitions written by the test:
// checked adds, reordering, removal, stops that name their job, stop-queue,
// the queue file and a restart that resumes the job that was running.
#include "actors/queue.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <unistd.h>

#include "actors/io/queue_store.hpp"
#include "actors/lock_manager.hpp"
#include "actors/status_hub.hpp"
#include "actors/type_ids.hpp"

namespace fs = std::filesystem;
using namespace seg;

namespace {

using namespace std::chrono_literals;

struct temp_root {
  fs::path path;
  temp_root() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path()
           / ("segflow-queue-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~temp_root() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// An acquisition folder <root>/img/20250101/sample/<name> with `frames` small
// JPEG frames: a light background with dark discs that move between frames.
std::string make_acquisition(const fs::path& root, const std::string& name,
                             int frames = 8) {
  auto dir = root / "img" / "20250101" / "sample" / name;
  fs::create_directories(dir);
  std::ofstream(dir / "metadata.json")
    << R"({"sample_project":"p","sample_id":"sample","acq_id":")" << name
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

struct test_config : caf::actor_system_config {
  test_config() {
    register_message_types(*this);
    set("scheduler.max-threads", 2);
  }
};

struct fixture {
  temp_root root;
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  status_hub_actor hub = spawn_status_hub(sys);
  lock_manager_actor locks;
  queue_actor q;
  std::string state_file = (root.path / "state" / io::queue_file_name).string();

  fixture() {
    fs::create_directories(root.path / "state");
    auto l = spawn_lock_manager(sys, lock_manager_config{});
    REQUIRE(l);
    locks = *l;
  }

  void start(io::queue_snapshot initial) {
    queue_config qc;
    qc.workers = 1;
    qc.reader.workers = 1;
    qc.state_file = state_file;
    qc.initial = std::move(initial);
    auto spawned = spawn_queue(sys, qc, hub, locks);
    REQUIRE(spawned);
    q = *spawned;
  }

  void start_paused() {
    io::queue_snapshot initial;
    initial.paused = true;
    start(initial);
  }

  void stop_queue_actor() {
    self->send_exit(q, caf::exit_reason::user_shutdown);
    self->wait_for(q);
  }

  ~fixture() {
    if (q)
      stop_queue_actor();
    self->send_exit(locks, caf::exit_reason::user_shutdown);
    self->wait_for(locks);
    self->send_exit(hub, caf::exit_reason::user_shutdown);
    self->wait_for(hub);
  }

  // Sends a request and waits for the answer: the value, or the error text.
  template <class T, class... Ts>
  std::pair<std::optional<T>, std::string> ask(Ts... xs) {
    std::optional<T> value;
    std::string error;
    self->request(q, std::chrono::seconds(30), xs...)
      .receive([&](T& x) { value = std::move(x); },
               [&](caf::error& err) {
                 auto& ctx = err.context();
                 error = ctx.size() == 1 && ctx.match_element<std::string>(0)
                           ? ctx.get_as<std::string>(0)
                           : sys.render(err);
               });
    return {std::move(value), error};
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

  std::vector<std::uint64_t> add(std::vector<std::string> paths) {
    std::vector<job_spec> specs;
    for (auto& p : paths) {
      job_spec s;
      s.path = p;
      specs.push_back(s);
    }
    auto [ids, err] = ask<std::vector<std::uint64_t>>(atom::add::value, specs);
    INFO(err);
    REQUIRE(ids);
    return *ids;
  }

  std::string add_error(std::vector<std::string> paths) {
    std::vector<job_spec> specs;
    for (auto& p : paths) {
      job_spec s;
      s.path = p;
      specs.push_back(s);
    }
    auto [ids, err] = ask<std::vector<std::uint64_t>>(atom::add::value, specs);
    CHECK_FALSE(ids);
    return err;
  }

  // Polls job `id` until it reaches `state` (60 s at most).
  job_record wait_state(std::uint64_t id, job_state state) {
    auto end = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      auto j = status(id);
      if (job_state(j.summary.state) == state)
        return j;
      if (std::chrono::steady_clock::now() > end) {
        FAIL("job " << id << " is " << to_string(job_state(j.summary.state)) << ", not "
                    << to_string(state));
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  std::vector<job_summary> wait_idle() {
    std::vector<job_summary> out;
    bool ok = false;
    self->request(q, std::chrono::seconds(120), atom::wait::value)
      .receive([&](std::vector<job_summary>& all) {
                 out = std::move(all);
                 ok = true;
               },
               [&](caf::error&) {});
    REQUIRE(ok);
    return out;
  }
};

std::vector<std::uint64_t> order_of(const queue_listing& all) {
  std::vector<std::uint64_t> out;
  for (auto& j : all.jobs)
    out.push_back(j.spec.id);
  return out;
}

std::vector<std::uint32_t> positions_of(const queue_listing& all) {
  std::vector<std::uint32_t> out;
  for (auto& j : all.jobs)
    out.push_back(j.position);
  return out;
}

// A status sink that forwards every event to `listener`.
status_sink_actor::behavior_type forwarder(status_sink_actor::pointer,
                                           caf::actor listener) {
  return {[listener](const job_event& ev) { caf::anon_send(listener, ev); }};
}

job_state state_of(const job_record& j) {
  return job_state(j.summary.state);
}

} // namespace

TEST_CASE("a checked add queues every job or none", "[actor][queue]") {
  fixture fx;
  fx.start_paused();
  auto a = make_acquisition(fx.root.path, "a");
  auto b = make_acquisition(fx.root.path, "b");
  auto missing = (fx.root.path / "img" / "20250101" / "sample" / "missing").string();
  CHECK_THAT(fx.add_error({a, missing}),
             Catch::Contains("missing") && Catch::Contains("nothing was queued"));
  // A folder with metadata.json but no frame.
  auto empty = fx.root.path / "img" / "20250101" / "sample" / "empty";
  fs::create_directories(empty);
  fs::copy_file(fs::path(a) / "metadata.json", empty / "metadata.json");
  CHECK_THAT(fx.add_error({a, empty.string()}), Catch::Contains("empty"));
  // Frames but no metadata.json.
  auto bare = fx.root.path / "img" / "20250101" / "sample" / "bare";
  fs::create_directories(bare);
  for (auto& e : fs::directory_iterator(a))
    if (e.path().extension() == ".jpg")
      fs::copy_file(e.path(), bare / e.path().filename());
  CHECK_THAT(fx.add_error({bare.string()}), Catch::Contains("metadata.json"));
  CHECK_THAT(fx.add_error({a, a}), Catch::Contains("already queued"));
  CHECK(fx.list().jobs.empty());
  CHECK(fx.add({a, b}) == std::vector<std::uint64_t>{1, 2});
  CHECK(fx.status(1).summary.frames_total == 8); // listed when it was checked
  CHECK_THAT(fx.add_error({a}), Catch::Contains("already queued as job 1 (pending)"));
  CHECK(fx.list().jobs.size() == 2);
}

TEST_CASE("pending jobs are reordered and removed while refusals change nothing",
          "[actor][queue]") {
  fixture fx;
  fx.start_paused();
  std::vector<std::string> paths;
  for (auto name : {"a", "b", "c", "d"})
    paths.push_back(make_acquisition(fx.root.path, name));
  CHECK(fx.add(paths) == std::vector<std::uint64_t>{1, 2, 3, 4});
  auto [moved, err] = fx.ask<queue_listing>(atom::move::value, std::uint64_t{3},
                                            std::uint32_t{1});
  REQUIRE(moved);
  CHECK(order_of(*moved) == std::vector<std::uint64_t>{3, 1, 2, 4});
  CHECK(positions_of(*moved) == std::vector<std::uint32_t>{1, 2, 3, 4});
  // Past the end: last.
  fx.ask<queue_listing>(atom::move::value, std::uint64_t{1}, std::uint32_t{99});
  CHECK(order_of(fx.list()) == std::vector<std::uint64_t>{3, 2, 4, 1});
  auto [removed, rerr] = fx.ask<job_record>(atom::remove::value, std::uint64_t{2});
  REQUIRE(removed);
  CHECK(removed->spec.path == paths[1]);
  CHECK(order_of(fx.list()) == std::vector<std::uint64_t>{3, 4, 1});
  // Unknown ids and bad positions are refused.
  CHECK(fx.ask<queue_listing>(atom::move::value, std::uint64_t{9}, std::uint32_t{1}).second
        == "no job 9");
  CHECK(fx.ask<job_record>(atom::remove::value, std::uint64_t{2}).second == "no job 2");
  CHECK(fx.ask<job_record>(atom::status::value, std::uint64_t{9}).second == "no job 9");
  CHECK_FALSE(fx.ask<queue_listing>(atom::move::value, std::uint64_t{3}, std::uint32_t{0})
                .second.empty());
  CHECK(order_of(fx.list()) == std::vector<std::uint64_t>{3, 4, 1});

  fx.ask<queue_listing>(atom::resume::value);
  auto done = fx.wait_idle();
  REQUIRE(done.size() == 3);
  auto all = fx.list();
  std::vector<std::int64_t> started;
  for (auto& j : all.jobs) {
    CHECK(state_of(j) == job_state::done);
    CHECK(j.summary.frames_done == 8);
    CHECK(j.summary.frames_total == 8);
    CHECK(j.position == 0);
    started.push_back(j.started_unix_ms);
  }
  // They ran in the edited order.
  CHECK(std::is_sorted(started.begin(), started.end()));
  CHECK(fx.ask<queue_listing>(atom::move::value, std::uint64_t{3}, std::uint32_t{1}).second
        == "job 3 is done: only pending jobs can be moved");
  CHECK_THAT(fx.ask<job_record>(atom::remove::value, std::uint64_t{3}).second,
             Catch::Contains("only pending jobs can be removed"));
  // Stopping a finished job changes nothing.
  auto [stopped, serr] = fx.ask<job_record>(atom::stop::value, std::uint64_t{3});
  REQUIRE(stopped);
  CHECK(state_of(*stopped) == job_state::done);
}

TEST_CASE("stops name their job and repeated stops are harmless", "[actor][queue]") {
  fixture fx;
  fx.start_paused();
  auto a = make_acquisition(fx.root.path, "a");
  auto b = make_acquisition(fx.root.path, "b");
  fx.add({a, b});
  auto [s1, e1] = fx.ask<job_record>(atom::stop::value, std::uint64_t{2});
  REQUIRE(s1);
  CHECK(state_of(*s1) == job_state::interrupted);
  auto [s2, e2] = fx.ask<job_record>(atom::stop::value, std::uint64_t{2});
  REQUIRE(s2);
  CHECK(state_of(*s2) == job_state::interrupted);
  CHECK(fx.ask<job_record>(atom::stop::value, std::uint64_t{7}).second == "no job 7");
  CHECK(state_of(fx.status(1)) == job_state::pending);
  fx.ask<queue_listing>(atom::resume::value);
  fx.wait_idle();
  CHECK(state_of(fx.status(1)) == job_state::done);
  CHECK(state_of(fx.status(2)) == job_state::interrupted);
  CHECK(fx.status(2).started_unix_ms == 0); // it never ran
}

TEST_CASE("stop-queue lets the running job finish and starts no other",
          "[actor][queue]") {
  fixture fx;
  fx.start_paused();
  auto a = make_acquisition(fx.root.path, "a", 12);
  auto b = make_acquisition(fx.root.path, "b");
  fx.add({a});
  fx.ask<queue_listing>(atom::resume::value);
  auto [stopped, err] = fx.ask<queue_listing>(atom::stop_queue::value);
  REQUIRE(stopped);
  CHECK(stopped->paused);
  fx.add({b});
  auto first = fx.wait_state(1, job_state::done);
  CHECK(first.summary.frames_done == 12);
  auto all = fx.list();
  CHECK(all.paused);
  CHECK(state_of(all.jobs[1]) == job_state::pending);
  CHECK(all.jobs[1].position == 1);
  fx.ask<queue_listing>(atom::resume::value);
  fx.wait_idle();
  CHECK(state_of(fx.status(2)) == job_state::done);
}

TEST_CASE("subscribers get status events with job ids", "[actor][queue]") {
  fixture fx;
  fx.start_paused();
  auto a = make_acquisition(fx.root.path, "a");
  fx.add({a});
  // Stands in for ctl's sink: forwards events to the scoped actor.
  auto sink = fx.sys.spawn(forwarder, caf::actor_cast<caf::actor>(fx.self));
  auto [ok, err] = fx.ask<bool>(atom::subscribe::value, sink);
  REQUIRE(ok);
  CHECK(*ok);
  fx.ask<queue_listing>(atom::resume::value);
  std::vector<event_kind> kinds;
  bool finished = false;
  while (!finished) {
    bool timed_out = false;
    fx.self->receive(
      [&](const job_event& ev) {
        CHECK(ev.job_id == 1);
        kinds.push_back(ev.kind);
        finished = event_kind(ev.kind) == event_kind::job_finished;
      },
      caf::after(std::chrono::seconds(30)) >> [&] { timed_out = true; });
    REQUIRE_FALSE(timed_out);
  }
  CHECK(kinds.front() == event_kind::job_started);
  CHECK(std::count(kinds.begin(), kinds.end(), event_kind::frame_done) == 8);
  fx.self->send_exit(sink, caf::exit_reason::user_shutdown);
  fx.self->wait_for(sink);
}

TEST_CASE("the queue file follows every change and a restart resumes the running job "
          "first",
          "[actor][queue]") {
  fixture fx;
  fx.start_paused();
  auto a = make_acquisition(fx.root.path, "a");
  auto b = make_acquisition(fx.root.path, "b");
  fx.add({a, b});
  auto saved = io::load_queue(fx.state_file);
  REQUIRE(saved);
  CHECK(saved->paused);
  REQUIRE(saved->jobs.size() == 2);
  CHECK(saved->jobs[0].spec.path == a);
  CHECK(job_state(saved->jobs[1].summary.state) == job_state::pending);
  fx.ask<queue_listing>(atom::move::value, std::uint64_t{2}, std::uint32_t{1});
  saved = io::load_queue(fx.state_file);
  CHECK(saved->jobs[0].spec.id == 2);
  fx.stop_queue_actor();

  // As after kill -9 while job 1 ran: the file says running.
  saved->jobs[1].summary.state = job_state::running;
  io::prepare_restart(*saved);
  fx.start(*saved); // still paused: only the resumed job runs
  auto resumed = fx.wait_state(1, job_state::done);
  CHECK(resumed.summary.frames_done == 8);
  auto all = fx.list();
  CHECK(order_of(all) == std::vector<std::uint64_t>{2, 1});
  CHECK(state_of(all.jobs[0]) == job_state::pending);
  CHECK(fx.add({make_acquisition(fx.root.path, "c")}) == std::vector<std::uint64_t>{3});
  saved = io::load_queue(fx.state_file);
  REQUIRE(saved->jobs.size() == 3);
  CHECK(job_state(saved->jobs[1].summary.state) == job_state::done);
  CHECK_FALSE(saved->jobs[1].resume);
  CHECK(saved->next_id == 4);
}

TEST_CASE("an unchecked add of a bad folder fails as a job", "[actor][queue]") {
  fixture fx;
  fx.start(io::queue_snapshot{});
  auto bare = fx.root.path / "img" / "20250101" / "sample" / "bare";
  fs::create_directories(bare);
  job_spec spec;
  spec.path = bare.string();
  auto [id, err] = fx.ask<std::uint64_t>(atom::add::value, spec);
  REQUIRE(id);
  auto all = fx.wait_idle();
  REQUIRE(all.size() == 1);
  CHECK(job_state(all[0].state) == job_state::failed);
  CHECK_THAT(all[0].error, Catch::Contains("bare"));
}
