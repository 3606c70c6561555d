// The queue file of `segflow serve`: round trip, restart rules, errors that
// name the file and the field.
#include "actors/io/queue_store.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace seg;

namespace {

using seg::test::temp_dir;

job_record make_job(std::uint64_t id, job_state state) {
  job_record j;
  j.spec.id = id;
  j.spec.path = "/data/img/d/s/acq" + std::to_string(id);
  j.spec.force = id % 2 == 0;
  j.spec.overrides = {"profile=planktoscope"};
  j.summary.id = id;
  j.summary.path = j.spec.path;
  j.summary.state = state;
  j.summary.frames_total = 40;
  j.summary.frames_done = 12;
  j.summary.frames_resumed = 3;
  j.summary.frames_failed = 1;
  j.summary.objects = 250;
  j.summary.error = state == job_state::failed ? "metadata.json: missing acq_id" : "";
  j.summary.failures = {"f.jpg: not a JPEG image"};
  j.summary.zip = "/data/export/ecotaxa/ecotaxa_acq.zip";
  j.summary.objects_dir = "/data/objects/d/s/acq";
  j.summary.nodes = {{"coord:100", 8}, {"lab1:4242", 4}};
  j.started_unix_ms = 1757609460618; // 2025-09-11T16:51:00.618Z
  j.elapsed_s = 6.25;
  return j;
}

io::queue_snapshot sample_queue() {
  io::queue_snapshot q;
  q.paused = true;
  q.next_id = 7;
  q.jobs = {make_job(1, job_state::done), make_job(4, job_state::running),
            make_job(2, job_state::pending), make_job(3, job_state::interrupted),
            make_job(5, job_state::failed), make_job(6, job_state::partial)};
  q.jobs[3].resume = true; // interrupted by a shutdown
  return q;
}

} // namespace

TEST_CASE("the queue file round-trips every persisted field", "[io][queue]") {
  auto q = sample_queue();
  auto back = io::parse_queue(io::format_queue(q), "queue.json");
  CHECK(back.paused == q.paused);
  CHECK(back.next_id == q.next_id);
  REQUIRE(back.jobs.size() == q.jobs.size());
  for (std::size_t i = 0; i < q.jobs.size(); ++i) {
    auto& a = q.jobs[i];
    auto& b = back.jobs[i];
    CHECK(b.spec.id == a.spec.id);
    CHECK(b.spec.path == a.spec.path);
    CHECK(b.spec.force == a.spec.force);
    CHECK(b.spec.overrides == a.spec.overrides);
    CHECK(b.summary.state == a.summary.state);
    CHECK(b.summary.frames_done == a.summary.frames_done);
    CHECK(b.summary.frames_total == a.summary.frames_total);
    CHECK(b.summary.frames_resumed == a.summary.frames_resumed);
    CHECK(b.summary.frames_failed == a.summary.frames_failed);
    CHECK(b.summary.objects == a.summary.objects);
    CHECK(b.summary.error == a.summary.error);
    CHECK(b.summary.failures == a.summary.failures);
    CHECK(b.summary.zip == a.summary.zip);
    CHECK(b.summary.objects_dir == a.summary.objects_dir);
    REQUIRE(b.summary.nodes.size() == a.summary.nodes.size());
    for (std::size_t k = 0; k < a.summary.nodes.size(); ++k) {
      CHECK(b.summary.nodes[k].node == a.summary.nodes[k].node);
      CHECK(b.summary.nodes[k].frames == a.summary.nodes[k].frames);
    }
    CHECK(b.started_unix_ms == a.started_unix_ms);
    CHECK(b.elapsed_s == a.elapsed_s);
    CHECK(b.resume == a.resume);
  }
}

TEST_CASE("a job's JSON has the documented fields", "[io][queue]") {
  auto j = io::job_json(make_job(4, job_state::running));
  CHECK(j["id"] == 4);
  CHECK(j["state"] == "running");
  CHECK(j["frames_done"] == 12);
  CHECK(j["frames_total"] == 40);
  CHECK(j["objects"] == 250);
  // 1757609460618 ms: 1757609460 s is 2025-09-11 16:51:00 UTC (date -ud @1757609460).
  CHECK(j["started"] == "2025-09-11T16:51:00.618Z");
  CHECK(j["elapsed"] == 6.25);
  CHECK(j["nodes"].dump() == R"({"coord:100":8,"lab1:4242":4})");
  CHECK(j["error"] == "");
  auto never = make_job(2, job_state::pending);
  never.started_unix_ms = 0;
  CHECK(io::job_json(never)["started"].is_null());
}

TEST_CASE("a restart resumes the running job in place and keeps the order",
          "[io][queue]") {
  auto q = sample_queue();
  io::prepare_restart(q);
  REQUIRE(q.jobs.size() == 6);
  std::vector<std::uint64_t> order;
  for (auto& j : q.jobs)
    order.push_back(j.spec.id);
  CHECK(order == std::vector<std::uint64_t>{1, 4, 2, 3, 5, 6});
  CHECK(job_state(q.jobs[0].summary.state) == job_state::done);
  CHECK_FALSE(q.jobs[0].resume);
  // Was running (kill -9): pending, resumed first.
  CHECK(job_state(q.jobs[1].summary.state) == job_state::pending);
  CHECK(q.jobs[1].resume);
  CHECK(job_state(q.jobs[2].summary.state) == job_state::pending);
  CHECK_FALSE(q.jobs[2].resume);
  // Interrupted by a shutdown: resumes too.
  CHECK(job_state(q.jobs[3].summary.state) == job_state::pending);
  CHECK(q.jobs[3].resume);
  CHECK(job_state(q.jobs[4].summary.state) == job_state::failed);
  // Finished with failed frames: stays partial (a new add retries them).
  CHECK(job_state(q.jobs[5].summary.state) == job_state::partial);
  CHECK_FALSE(q.jobs[5].resume);
  CHECK(q.next_id == 7);
  // next_id always passes the largest id.
  q.next_id = 2;
  io::prepare_restart(q);
  CHECK(q.next_id == 7);
}

TEST_CASE("a job stopped by the user stays interrupted after a restart", "[io][queue]") {
  io::queue_snapshot q;
  q.jobs = {make_job(1, job_state::interrupted)};
  io::prepare_restart(q);
  CHECK(job_state(q.jobs[0].summary.state) == job_state::interrupted);
  CHECK_FALSE(q.jobs[0].resume);
}

TEST_CASE("save and load go through the file", "[io][queue]") {
  temp_dir dir;
  auto file = dir.path / io::queue_file_name;
  CHECK_FALSE(io::load_queue(file).has_value());
  io::save_queue(file, sample_queue());
  auto loaded = io::load_queue(file);
  REQUIRE(loaded.has_value());
  CHECK(loaded->jobs.size() == 6);
  CHECK(loaded->jobs[1].spec.id == 4);
  // No temporary file is left beside it.
  std::size_t files = 0;
  for (auto& e : fs::directory_iterator(dir.path)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("a bad queue file is refused naming the file and the problem",
          "[io][queue]") {
  auto parse_error = [](const std::string& text) -> std::string {
    try {
      io::parse_queue(text, "/state/queue.json");
    } catch (const io::io_error& e) {
      return e.what();
    }
    return "";
  };
  auto truncated = io::format_queue(sample_queue());
  truncated.resize(truncated.size() / 2);
  auto err = parse_error(truncated);
  CHECK_THAT(err, Catch::Contains("/state/queue.json") && Catch::Contains("invalid"));
  auto j = nlohmann::json::parse(io::format_queue(sample_queue()));
  j["jobs"][1].erase("state");
  CHECK_THAT(parse_error(j.dump()), Catch::Contains("jobs[1]") && Catch::Contains("\"state\""));
  j = nlohmann::json::parse(io::format_queue(sample_queue()));
  j["jobs"][0]["state"] = "sleeping";
  CHECK_THAT(parse_error(j.dump()), Catch::Contains("sleeping"));
  j["jobs"][0]["state"] = "done";
  j["jobs"][0]["frames_done"] = "many";
  CHECK_THAT(parse_error(j.dump()), Catch::Contains("frames_done"));
  // An integral field takes only an integer that fits (a float cast out of
  // range is undefined behaviour: fuzz_queue_json found "frames_resumed": 1e78).
  for (auto bad : {nlohmann::json(1e78), nlohmann::json(-1), nlohmann::json(2.5),
                   nlohmann::json(std::uint64_t(1) << 40)}) {
    j = nlohmann::json::parse(io::format_queue(sample_queue()));
    j["jobs"][0]["frames_resumed"] = bad;
    CHECK_THAT(parse_error(j.dump()), Catch::Contains("frames_resumed"));
  }
  for (auto bad : {nlohmann::json(1e78), nlohmann::json(-1), nlohmann::json("8"),
                   nlohmann::json(std::uint64_t(1) << 40)}) {
    j = nlohmann::json::parse(io::format_queue(sample_queue()));
    j["jobs"][0]["nodes"]["lab1:4242"] = bad;
    CHECK_THAT(parse_error(j.dump()), Catch::Contains("jobs[0]") && Catch::Contains("lab1:4242"));
  }
  j = nlohmann::json::parse(io::format_queue(sample_queue()));
  j["jobs"][0]["nodes"] = nlohmann::json::array();
  CHECK_THAT(parse_error(j.dump()), Catch::Contains("\"nodes\""));
  // Files of earlier versions have no nodes.
  j = nlohmann::json::parse(io::format_queue(sample_queue()));
  j["jobs"][0].erase("nodes");
  CHECK(parse_error(j.dump()).empty());
  j = nlohmann::json::parse(io::format_queue(sample_queue()));
  j["version"] = 2;
  CHECK_THAT(parse_error(j.dump()), Catch::Contains("version 2"));
  CHECK_THAT(parse_error("{\"format\":\"other\"}"), Catch::Contains("not a queue file"));
  CHECK(parse_error(io::format_queue(sample_queue())).empty());
}

TEST_CASE("the default state directory follows XDG", "[io][queue]") {
  const char* old_xdg = std::getenv("XDG_STATE_HOME");
  std::string saved = old_xdg != nullptr ? old_xdg : "";
  ::setenv("XDG_STATE_HOME", "/x/state", 1);
  CHECK(io::default_state_dir() == fs::path("/x/state/segflow"));
  ::unsetenv("XDG_STATE_HOME");
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/')
    CHECK(io::default_state_dir() == fs::path(home) / ".local/state/segflow");
  if (old_xdg != nullptr)
    ::setenv("XDG_STATE_HOME", saved.c_str(), 1);
}

TEST_CASE("UTF-8 validation", "[io][queue]") {
  CHECK(io::is_valid_utf8("/data/img/plancton/été"));
  CHECK(io::is_valid_utf8("\xF0\x9F\x90\x9F")); // U+1F41F
  CHECK_FALSE(io::is_valid_utf8("\xFF"));
  CHECK_FALSE(io::is_valid_utf8("a\xC3"));          // truncated
  CHECK_FALSE(io::is_valid_utf8("\xC0\xAF"));       // overlong '/'
  CHECK_FALSE(io::is_valid_utf8("\xED\xA0\x80"));   // surrogate
}
