// The queue on the deterministic scheduler with the real pipeline (reader,
// workers, exporter, lock manager) on small acquisitions written by the
// test: checked adds, reordering, removal, stops that name their job,
// stop-queue, the queue file and a restart that resumes the job that was
// running. The worker joins as a worker process's would (the queue's own
// workers run detached, on threads of their own), so every message runs on
// the test's thread and a test waits for nothing: it runs the actors until
// none has anything left to do.
#include "actors/queue.hpp"

#include "tests/actors/queue_fixture.hpp"

using namespace seg;
using namespace seg::test::queue_fx;

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
  // Both in the queue's mailbox at once: job 1 starts, then the queue stops.
  fx.send(fx.q, atom::resume::value);
  auto [stopped, err] = fx.ask<queue_listing>(atom::stop_queue::value);
  REQUIRE(stopped);
  CHECK(stopped->paused);
  fx.add({b});
  auto first = fx.run_until_state(1, job_state::done);
  CHECK(first.summary.frames_done == 12);
  auto all = fx.list();
  CHECK(all.paused);
  CHECK(state_of(all.jobs[1]) == job_state::pending);
  CHECK(all.jobs[1].position == 1);
  fx.ask<queue_listing>(atom::resume::value);
  fx.wait_idle();
  CHECK(state_of(fx.status(2)) == job_state::done);
}

TEST_CASE("subscribers get status events with job ids and the run's operation id",
          "[actor][queue]") {
  fixture fx;
  fx.state_dir = (fx.root.path / "state").string();
  fx.start_paused();
  auto a = make_acquisition(fx.root.path, "a");
  fx.add({a});
  // Stands in for ctl's sink.
  auto box = std::make_shared<seg::test::inbox>();
  auto sink = fx.stand_in<status_sink_actor>(box);
  auto [ok, err] = fx.ask<bool>(atom::subscribe::value, sink);
  REQUIRE(ok);
  CHECK(*ok);
  fx.ask<queue_listing>(atom::resume::value);
  fx.run();
  // The run is one operation of the journal; every event of it, from the
  // queue's job_started through the reader's flat_ready and the exporter's
  // frames to job_finished, and the job's summary name it.
  auto ops = io::op_journal(fx.state_dir).all();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].job == 1);
  CHECK(ops[0].state == io::op_state::success);
  std::vector<event_kind> kinds;
  for (auto& ev : box->of<job_event>()) {
    CHECK(ev.job_id == 1);
    CHECK(ev.op_id == ops[0].id);
    kinds.push_back(ev.kind);
  }
  REQUIRE_FALSE(kinds.empty());
  CHECK(kinds.front() == event_kind::job_started);
  CHECK(std::count(kinds.begin(), kinds.end(), event_kind::flat_ready) == 1);
  CHECK(kinds.back() == event_kind::job_finished);
  CHECK(std::count(kinds.begin(), kinds.end(), event_kind::frame_done) == 8);
  CHECK(fx.status(1).summary.op_id == ops[0].id);
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
  auto resumed = fx.run_until_state(1, job_state::done);
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
