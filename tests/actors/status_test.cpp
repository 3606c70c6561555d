// Status text (pure functions), the status hub's fan-out on the
// deterministic scheduler, and the three sinks writing to temporary files. Expected strings
// are worked out by hand from the events in each test.

#include "actors/status_format.hpp"
#include "actors/status_hub.hpp"
#include "actors/status_sinks.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/exit_reason.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/actors/fixture.hpp"

namespace {

using namespace std::chrono_literals;
using seg::event_kind;
using seg::job_event;
using seg::job_state;
using seg::test::fixture;
using seg::test::inbox;

const seg::status_hub_actor no_hub{};

job_event make_event(event_kind kind, std::uint64_t job = 7) {
  job_event ev;
  ev.kind = kind;
  ev.job_id = job;
  ev.path = "/data/img/2025-09-11/project/acq1";
  ev.state = job_state::running;
  ev.frames_total = 12;
  return ev;
}

job_event frame(std::uint32_t index, std::uint32_t done, double elapsed_s,
                std::uint32_t objects = 0) {
  auto ev = make_event(event_kind::frame_done);
  ev.frame_index = index;
  ev.frame_name = "2025-09-11_16-51-0" + std::to_string(index) + "-618912.jpg";
  ev.frames_done = done;
  ev.elapsed_s = elapsed_s;
  ev.objects = objects;
  return ev;
}

job_event finished(job_state state, std::string message = {}) {
  auto ev = make_event(event_kind::job_finished);
  ev.state = state;
  ev.frames_done = 12;
  ev.objects = 345;
  ev.elapsed_s = 61.24;
  ev.message = std::move(message);
  return ev;
}

/// The job ids of the events a stand-in sink received, in order.
std::vector<std::uint64_t> job_ids(const inbox& box) {
  std::vector<std::uint64_t> out;
  for (auto& ev : box.of<job_event>())
    out.push_back(ev.job_id);
  return out;
}

std::size_t strong_refs(const seg::status_sink_actor& h) {
  return caf::actor_cast<caf::actor_control_block*>(h)->strong_refs.load();
}

/// A temporary file for a sink to write to.
struct temp_file {
  std::FILE* f = std::tmpfile();
  ~temp_file() {
    if (f != nullptr)
      std::fclose(f);
  }
  std::vector<std::string> lines() {
    std::fflush(f);
    std::rewind(f);
    std::string all;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      all.append(buf, n);
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1)
      out.push_back(all.substr(start, nl - start));
    if (start < all.size())
      out.push_back(all.substr(start));
    return out;
  }
};

/// Sends `events` to `sink`, then stops it and waits: everything sent before
/// the exit has been handled once it is gone.
void feed(fixture& fx, const seg::status_sink_actor& sink,
          const std::vector<job_event>& events) {
  auto down = fx.watch(sink);
  for (auto& ev : events)
    fx.send(sink, ev);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  fx.run();
  REQUIRE(down->has_value());
}

} // namespace

TEST_CASE("status format: names and labels", "[actor]") {
  CHECK(std::string{seg::event_name(seg::event_kind(0))} == "job_started");
  CHECK(std::string{seg::event_name(seg::event_kind(1))} == "flat_ready");
  CHECK(std::string{seg::event_name(seg::event_kind(2))} == "frame_done");
  CHECK(std::string{seg::event_name(seg::event_kind(3))} == "frame_failed");
  CHECK(std::string{seg::event_name(seg::event_kind(4))} == "job_finished");
  CHECK(std::string{seg::event_name(seg::event_kind(5))} == "unknown");
  CHECK(std::string{seg::state_name(seg::job_state(4))} == "interrupted");
  CHECK(std::string{seg::state_name(seg::job_state(9))} == "unknown");
  CHECK(seg::acquisition_label("/data/img/2025-09-11/project/acq1")
        == "2025-09-11/project/acq1");
  CHECK(seg::acquisition_label("/somewhere/acq1") == "/somewhere/acq1");
  CHECK(seg::acquisition_label("/data/img/") == "/data/img/");
}

TEST_CASE("status format: progress line", "[actor]") {
  // 6 done of 12, 2 of them before this run: 4 frames in 2 s = 2.0 frames/s;
  // 6 left / 2.0 = 3 s.
  CHECK(seg::format_progress_line(frame(5, 6, 2.0), {2, 37})
        == "2025-09-11/project/acq1 6/12 frames, 2.0 frames/s, ETA 3s, objects 37");
  // 5 frames in 3 s = 1.666.. frames/s; 7 left take 4.2 s, shown rounded up.
  CHECK(seg::format_progress_line(frame(4, 5, 3.0), {0, 0})
        == "2025-09-11/project/acq1 5/12 frames, 1.7 frames/s, ETA 5s, objects 0");
  // Nothing done in this run yet: no rate.
  CHECK(seg::format_progress_line(frame(1, 2, 1.0), {2, 0})
        == "2025-09-11/project/acq1 2/12 frames, -- frames/s, ETA --, objects 0");
}

TEST_CASE("status format: event lines", "[actor]") {
  auto started = make_event(event_kind::job_started);
  CHECK(seg::format_event_line(started, {3, 0})
        == "2025-09-11/project/acq1: started, 12 frames (3 already done)");
  CHECK(seg::format_event_line(started, {0, 0})
        == "2025-09-11/project/acq1: started, 12 frames");
  auto flat = make_event(event_kind::flat_ready);
  flat.ms = 1534;
  CHECK(seg::format_event_line(flat, {}) == "2025-09-11/project/acq1: flat ready in 1.5s");
  auto failed = make_event(event_kind::frame_failed);
  failed.frame_index = 4;
  failed.frame_name = "b.jpg";
  failed.message = "corrupt JPEG";
  CHECK(seg::format_event_line(failed, {})
        == "2025-09-11/project/acq1: frame 5/12 b.jpg failed: corrupt JPEG");
  CHECK(seg::format_event_line(finished(job_state::done), {})
        == "2025-09-11/project/acq1: done, 12/12 frames, 345 objects in 61.2s");
  CHECK(seg::format_event_line(finished(job_state::failed, "disk full"), {})
        == "2025-09-11/project/acq1: failed, 12/12 frames, 345 objects in 61.2s: "
           "disk full");
  CHECK(seg::format_event_line(frame(0, 1, 1.0), {}).empty());
}

TEST_CASE("status format: JSON lines carry every field", "[actor]") {
  auto ev = frame(3, 4, 2.5, 17);
  ev.ms = 812.5;
  ev.message = "say \"hi\"";
  ev.op_id = "op-20250911T165100618Z-0123456789ab";
  ev.node = "lab1:4242";
  auto line = seg::format_json_line(ev);
  CHECK(line.find('\n') == std::string::npos);
  auto j = nlohmann::json::parse(line);
  CHECK(j.at("event") == "frame_done");
  CHECK(j.at("job_id") == 7);
  CHECK(j.at("path") == "/data/img/2025-09-11/project/acq1");
  CHECK(j.at("state") == "running");
  CHECK(j.at("frame_index") == 3);
  CHECK(j.at("frame_name") == "2025-09-11_16-51-03-618912.jpg");
  CHECK(j.at("frames_done") == 4);
  CHECK(j.at("frames_total") == 12);
  CHECK(j.at("objects") == 17);
  CHECK(j.at("ms") == 812.5);
  CHECK(j.at("elapsed_s") == 2.5);
  CHECK(j.at("message") == "say \"hi\"");
  CHECK(j.at("op") == "op-20250911T165100618Z-0123456789ab");
  CHECK(j.at("node") == "lab1:4242");
  CHECK(j.size() == 14);
  for (std::uint8_t k = 0; k <= 4; ++k) {
    auto e = make_event(static_cast<event_kind>(k));
    CHECK(nlohmann::json::parse(seg::format_json_line(e)).at("event")
          == seg::event_name(static_cast<event_kind>(k)));
  }
  // A path that is not UTF-8 still gives valid JSON.
  auto bad = make_event(event_kind::job_started);
  bad.path = "/data/\xff\xfe";
  CHECK_NOTHROW(nlohmann::json::parse(seg::format_json_line(bad)));
}

TEST_CASE("status format: the reference segmenter's strings (SPEC 5.2)", "[actor]") {
  CHECK(seg::format_reference_status(make_event(event_kind::job_started))
        == R"({"status":"Calculating flat"})");
  auto f = make_event(event_kind::frame_done);
  f.frame_index = 0;
  f.frame_name = "2025-09-11_16-51-00-618912.jpg";
  CHECK(seg::format_reference_status(f)
        == R"({"status":"Segmenting image 2025-09-11_16-51-00-618912.jpg, image 1/12"})");
  f.kind = event_kind::frame_failed;
  f.frame_index = 11;
  CHECK(seg::format_reference_status(f)
        == R"({"status":"Segmenting image 2025-09-11_16-51-00-618912.jpg, image 12/12"})");
  CHECK(seg::format_reference_status(make_event(event_kind::flat_ready)).empty());
  CHECK(seg::format_reference_status(finished(job_state::done)) == R"({"status":"Done"})");
  CHECK(seg::format_reference_status(finished(job_state::interrupted))
        == R"({"status":"Interrupted"})");
  // The reference has no partial outcome: its exception status, with why.
  CHECK(seg::format_reference_status(finished(job_state::partial, "a: 2 of 12 frames failed"))
        == R"({"status":"An exception was raised during the segmentation: a: 2 of 12 frames failed."})");
  CHECK(seg::format_reference_status(finished(job_state::failed, "no frames"))
        == R"({"status":"An exception was raised during the segmentation: no frames."})");
  // Unlike the reference, quotes in the message are escaped.
  auto quoted = seg::format_reference_status(finished(job_state::failed, "bad \"x\""));
  CHECK(nlohmann::json::parse(quoted).at("status")
        == "An exception was raised during the segmentation: bad \"x\".");
}

TEST_CASE("status hub: every subscriber gets every event in order", "[actor]") {
  fixture fx;
  auto hub = fx.adopt(seg::spawn_status_hub(fx.sys));
  auto box_a = std::make_shared<inbox>();
  auto box_b = std::make_shared<inbox>();
  auto a = fx.stand_in<seg::status_sink_actor>(box_a);
  auto b = fx.stand_in<seg::status_sink_actor>(box_b);
  auto refs_of_b = strong_refs(b);
  fx.send(hub, seg::atom::subscribe::value, a);
  fx.send(hub, seg::atom::subscribe::value, b);
  fx.send(hub, seg::atom::subscribe::value, a); // a repeat is ignored
  std::vector<std::uint64_t> sent;
  for (std::uint64_t i = 1; i <= 20; ++i) {
    fx.send(hub, make_event(event_kind::frame_done, i));
    sent.push_back(i);
  }
  fx.run();
  // Each once, in order: a was subscribed once.
  CHECK(job_ids(*box_a) == sent);
  CHECK(job_ids(*box_b) == sent);

  SECTION("a subscriber that quits is dropped without error") {
    auto hub_down = fx.watch(hub);
    // The hub holds a reference to b until it sees b go down.
    CHECK(strong_refs(b) == refs_of_b + 1);
    caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    fx.run();
    CHECK(strong_refs(b) == refs_of_b);
    fx.send(hub, make_event(event_kind::job_finished, 99));
    fx.run();
    CHECK(job_ids(*box_a).back() == 99);
    CHECK(job_ids(*box_b) == sent);
    // The hub is still alive.
    CHECK_FALSE(hub_down->has_value());
  }
}

TEST_CASE("status sinks: JSON lines and reference strings", "[actor]") {
  fixture fx;
  auto started = make_event(event_kind::job_started);
  auto f1 = frame(0, 1, 1.0, 5);
  auto done = finished(job_state::done);
  SECTION("json sink: one parseable line per event, in order") {
    temp_file out;
    auto sink = fx.adopt(seg::spawn_json_sink(fx.sys, no_hub, out.f));
    feed(fx, sink, {started, f1, done});
    auto lines = out.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == seg::format_json_line(started));
    CHECK(nlohmann::json::parse(lines[1]).at("frame_name") == f1.frame_name);
    CHECK(nlohmann::json::parse(lines[2]).at("event") == "job_finished");
    CHECK(nlohmann::json::parse(lines[2]).at("state") == "done");
  }
  SECTION("reference sink: the reference's strings, nothing for flat_ready") {
    temp_file out;
    auto sink = fx.adopt(seg::spawn_reference_sink(fx.sys, no_hub, out.f));
    feed(fx, sink, {started, make_event(event_kind::flat_ready), f1, done});
    auto lines = out.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == R"({"status":"Calculating flat"})");
    CHECK(lines[1]
          == R"({"status":"Segmenting image 2025-09-11_16-51-00-618912.jpg, image 1/12"})");
    CHECK(lines[2] == R"({"status":"Done"})");
  }
  SECTION("sinks subscribed through the hub see the hub's events") {
    temp_file out;
    auto hub = fx.adopt(seg::spawn_status_hub(fx.sys));
    auto sink = fx.adopt(seg::spawn_reference_sink(fx.sys, hub, out.f));
    fx.send(hub, started);
    fx.send(hub, done);
    fx.run();
    feed(fx, sink, {});
    auto lines = out.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[1] == R"({"status":"Done"})");
  }
}

TEST_CASE("status sinks: terminal progress", "[actor]") {
  fixture fx;
  auto started = make_event(event_kind::job_started);
  started.frames_done = 2; // resumed
  std::vector<job_event> events{started, frame(2, 3, 1.0, 10), frame(3, 4, 2.0, 5)};
  auto last = frame(11, 12, 5.0, 1);
  SECTION("no TTY, no throttle: plain lines, objects summed") {
    temp_file out;
    seg::progress_sink_config cfg;
    cfg.out = out.f;
    cfg.tty = false;
    cfg.min_interval = 0ms;
    auto sink = fx.adopt(seg::spawn_progress_sink(fx.sys, no_hub, cfg));
    auto all = events;
    all.push_back(finished(job_state::done));
    feed(fx, sink, all);
    auto lines = out.lines();
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "2025-09-11/project/acq1: started, 12 frames (2 already done)");
    // 1 frame in 1 s this run; 9 left.
    CHECK(lines[1]
          == "2025-09-11/project/acq1 3/12 frames, 1.0 frames/s, ETA 9s, objects 10");
    CHECK(lines[2]
          == "2025-09-11/project/acq1 4/12 frames, 1.0 frames/s, ETA 8s, objects 15");
    CHECK(lines[3] == "2025-09-11/project/acq1: done, 12/12 frames, 345 objects in 61.2s");
  }
  SECTION("no TTY, throttled: first and last frame only") {
    temp_file out;
    seg::progress_sink_config cfg;
    cfg.out = out.f;
    cfg.tty = false;
    cfg.min_interval = std::chrono::hours(1);
    auto sink = fx.adopt(seg::spawn_progress_sink(fx.sys, no_hub, cfg));
    auto all = events;
    all.push_back(last);
    feed(fx, sink, all);
    auto lines = out.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[1].rfind("2025-09-11/project/acq1 3/12 frames", 0) == 0);
    CHECK(lines[2].rfind("2025-09-11/project/acq1 12/12 frames", 0) == 0);
  }
  SECTION("TTY: one line rewritten with carriage returns") {
    temp_file out;
    seg::progress_sink_config cfg;
    cfg.out = out.f;
    cfg.tty = true;
    auto sink = fx.adopt(seg::spawn_progress_sink(fx.sys, no_hub, cfg));
    auto all = events;
    all.push_back(finished(job_state::done));
    feed(fx, sink, all);
    auto lines = out.lines();
    // The started line, then every progress rewrite and the final line share
    // one terminal line (separated by '\r' only).
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "2025-09-11/project/acq1: started, 12 frames (2 already done)");
    CHECK(lines[1]
          == "\r2025-09-11/project/acq1 3/12 frames, 1.0 frames/s, ETA 9s, objects 10"
             "\x1b[K"
             "\r2025-09-11/project/acq1 4/12 frames, 1.0 frames/s, ETA 8s, objects 15"
             "\x1b[K"
             "\r\x1b[K2025-09-11/project/acq1: done, 12/12 frames, 345 objects in "
             "61.2s");
  }
}
