// Preflight estimates: the numbers, when they refuse, and the fix they name.
#include "tools/segflow/preflight.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>

namespace fs = std::filesystem;
using namespace seg::cli;

namespace {

preflight_job hq_job(std::uint64_t frames) {
  preflight_job j;
  j.name = "/data/img/a";
  j.width = 4056;
  j.height = 3040;
  j.frames = frames;
  j.frame_bytes = frames * 3'000'000;
  j.flat_frames = 9;
  return j;
}

constexpr std::uint64_t hq_frame = 4056ull * 3040 * 3; // 36,990,720 bytes

} // namespace

TEST_CASE("memory: workers x frame x factor + the flat stack", "[io][preflight]") {
  preflight_settings s;
  s.workers = 3;
  auto r = check_preflight({hq_job(100)}, s, std::nullopt);
  // 3 x 36,990,720 x 6 + 10 x 36,990,720 = 28 x 36,990,720
  CHECK(r.memory_needed == 28 * hq_frame);
  CHECK(r.problems.empty()); // unknown availability refuses nothing

  auto fits = check_preflight({hq_job(100)}, s, 28 * hq_frame);
  CHECK(fits.problems.empty());
  auto short_by_one = check_preflight({hq_job(100)}, s, 28 * hq_frame - 1);
  REQUIRE(short_by_one.problems.size() == 1);
  auto& p = short_by_one.problems[0];
  CHECK(p.find("not enough memory") != std::string::npos);
  CHECK(p.find("4056x3040") != std::string::npos);
  CHECK(p.find("--force-run") != std::string::npos);
  // 28 frames' worth minus a byte leaves room for 2 workers: (28-10)/6 - e.
  CHECK(p.find("--workers 2 fits") != std::string::npos);
}

TEST_CASE("memory: the largest job counts, jobs run one after the other", "[io][preflight]") {
  auto small = hq_job(10);
  small.width = 1014;
  small.height = 760;
  preflight_settings s;
  auto r = check_preflight({small, hq_job(10), small}, s, std::nullopt);
  CHECK(r.memory_needed == (6 + 10) * hq_frame);
}

TEST_CASE("memory: frames too large for one worker say so", "[io][preflight]") {
  preflight_settings s;
  s.workers = 1;
  auto r = check_preflight({hq_job(10)}, s, 5 * hq_frame);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].find("do not fit even with one worker") != std::string::npos);
}

TEST_CASE("disk: crops twice (files and zip) + records + margin, per device", "[io][preflight]") {
  preflight_settings s;
  auto a = hq_job(1000); // 3 GB of frames
  a.space = output_space{7, 0, "/data"};
  auto b = hq_job(500);
  b.space = output_space{7, 0, "/data"};
  auto c = hq_job(100);
  c.space = output_space{9, 1ull << 40, "/other"};
  // device 7: 2 x 0.10 x 4.5e9 + 1500 x 64 KiB + 64 MiB
  const std::uint64_t need7 = 900'000'000ull + 1500ull * 65536 + (64ull << 20);
  a.space->free_bytes = b.space->free_bytes = need7;
  auto ok = check_preflight({a, b, c}, s, std::nullopt);
  CHECK(ok.problems.empty());
  a.space->free_bytes = b.space->free_bytes = need7 - 1;
  auto r = check_preflight({a, b, c}, s, std::nullopt);
  REQUIRE(r.problems.size() == 1); // only device 7
  CHECK(r.problems[0].find("not enough disk space") != std::string::npos);
  CHECK(r.problems[0].find("1500 frames") != std::string::npos);
  CHECK(r.problems[0].find("/data") != std::string::npos);
  CHECK(r.problems[0].find("--force-run") != std::string::npos);
}

TEST_CASE("memory_available reads MemAvailable in kB", "[io][preflight]") {
  auto file = fs::temp_directory_path() / ("segflow-meminfo-" + std::to_string(::getpid()));
  {
    std::ofstream out(file);
    out << "MemTotal:       24684096 kB\nMemFree:  100 kB\nMemAvailable:   23469692 kB\n";
  }
  CHECK(memory_available(file) == 23469692ull * 1024);
  {
    std::ofstream out(file);
    out << "MemTotal: 1 kB\n";
  }
  CHECK_FALSE(memory_available(file));
  fs::remove(file);
  CHECK(memory_available("/proc/meminfo").value_or(0) > 0);
}

TEST_CASE("output_space_of measures the nearest existing folder", "[io][preflight]") {
  auto here = fs::temp_directory_path();
  auto s = output_space_of(here / "segflow-does-not-exist" / "objects" / "x");
  REQUIRE(s);
  CHECK(s->measured == here);
  CHECK(s->free_bytes > 0);
}

TEST_CASE("format_bytes", "[io][preflight]") {
  CHECK(format_bytes(100) == "100 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(300ull << 20) == "300 MiB");
  CHECK(format_bytes(5ull << 30) == "5.0 GiB");
}

TEST_CASE("shared memory: the flat stack and the flat must fit in /dev/shm",
          "[io][preflight]") {
  preflight_settings s;
  auto need = 10 * hq_frame + 2 * 4096; // 9 stack frames, the flat, two headers
  auto unknown = check_preflight({hq_job(100)}, s, std::nullopt, std::nullopt);
  CHECK(unknown.shm_needed == need);
  CHECK(unknown.problems.empty());

  CHECK(check_preflight({hq_job(100)}, s, std::nullopt, need).problems.empty());
  // Docker's default 64 MB: 1 frame fits, not a stack.
  auto docker = check_preflight({hq_job(100)}, s, std::nullopt, 64ull << 20);
  REQUIRE(docker.problems.size() == 1);
  auto& p = docker.problems[0];
  CHECK(p.find("not enough shared memory") != std::string::npos);
  CHECK(p.find("353 MiB") != std::string::npos);   // the need
  CHECK(p.find("64 MiB is free") != std::string::npos);
  CHECK(p.find("--shm-size=384m") != std::string::npos);
  CHECK(p.find("flat_frames=") == std::string::npos); // 1 frame is no stack
  // 256 MiB: 7 frames fit, so a stack asked for 6 (5 frames + the flat).
  auto some = check_preflight({hq_job(100)}, s, std::nullopt, 256ull << 20);
  REQUIRE(some.problems.size() == 1);
  CHECK(some.problems[0].find("segmentation.flat_frames=6 fits") != std::string::npos);
}

TEST_CASE("tiled frames: workers hold a tile, shared memory the frames in flight and the flat",
          "[io][preflight][tiles]") {
  preflight_job j = hq_job(100);
  j.width = 16000;
  j.height = 12000;
  j.tiled = true;
  j.tile_width = 4096 + 2 * 24;
  j.tile_height = 4096 + 2 * 24;
  j.frames_in_flight = 2;
  const std::uint64_t frame = 16000ull * 12000 * 3;
  const double tile = double(j.tile_width) * double(j.tile_height) * 3;
  preflight_settings s;
  s.workers = 2;
  auto r = check_preflight({j}, s, std::nullopt, std::nullopt);
  CHECK(r.memory_needed == std::uint64_t(2 * tile * 6 + 3.0 * double(frame)));
  CHECK(r.shm_needed == 3 * frame + 2 * 4096);
  // Untiled, the same frames would stack 9 in shared memory and give each
  // worker a whole frame.
  auto untiled = j;
  untiled.tiled = false;
  auto u = check_preflight({untiled}, s, std::nullopt, std::nullopt);
  CHECK(u.memory_needed > 3 * r.memory_needed);
  CHECK(u.shm_needed == 10 * frame + 2 * 4096);
  auto refused = check_preflight({j}, s, std::nullopt, 2 * frame);
  REQUIRE(refused.problems.size() == 1);
  CHECK_THAT(refused.problems[0], Catch::Contains("3 frames of 16000x12000x3 bytes"));
  CHECK_THAT(refused.estimates[0], Catch::Contains("2 tiled frame(s) in flight and the flat"));
}
