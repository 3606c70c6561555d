#include "config/settings.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace seg::config;

namespace {

// A TOML file in a fresh temp directory, removed with the object.
struct temp_config {
  fs::path dir;
  fs::path file;
  explicit temp_config(const std::string& text) {
    dir = fs::temp_directory_path()
          / ("segflow-config-test-" + std::to_string(::getpid()) + "-"
             + std::to_string(counter()++));
    fs::create_directories(dir);
    file = dir / "test.toml";
    std::ofstream(file) << text;
  }
  ~temp_config() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

std::string error_of(const sources& src) {
  try {
    load(src);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("the shipped config file equals the built-in defaults", "[config]") {
  auto shipped = load({SEGFLOW_SOURCE_DIR "/config/segflow.toml", {}, {}});
  auto builtin = load({});
  CHECK(to_toml(shipped) == to_toml(builtin));
}

TEST_CASE("the shipped config file documents every key", "[config]") {
  std::ifstream in(SEGFLOW_SOURCE_DIR "/config/segflow.toml");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  for (auto& k : keys()) {
    auto name = k.key.substr(k.key.find('.') + 1);
    INFO(k.key);
    CHECK(text.find("\n" + name + " = ") != std::string::npos);
    CHECK(!k.meaning.empty());
  }
}

TEST_CASE("profiles choose their defaults", "[config]") {
  auto standard = load({});
  CHECK(standard.run_profile == profile::standard);
  CHECK(standard.segmentation.size_units == units::micrometres);
  CHECK(standard.exports.ids == object_ids::unique);
  CHECK_FALSE(standard.segmentation.flat_recalculate);

  auto pk = load({"", {}, {{"profile", "planktoscope"}}});
  CHECK(pk.run_profile == profile::planktoscope);
  CHECK(pk.segmentation.size_units == units::pixels);
  CHECK(pk.exports.ids == object_ids::per_frame);
  CHECK(pk.segmentation.flat_recalculate);
  CHECK(pk.segmentation.min_esd == 20);
}

TEST_CASE("file < environment < command line", "[config]") {
  temp_config cfg("[pipeline]\nworkers = 3\nreads_in_flight = 4\n"
                  "[segmentation]\nmin_esd = 30.5\n");
  auto from_file = load({cfg.file.string(), {}, {}});
  CHECK(from_file.pipeline.workers == 3);
  CHECK(from_file.segmentation.min_esd == 30.5);

  auto with_env = load({cfg.file.string(), {{"SEGFLOW_PIPELINE_WORKERS", "5"}}, {}});
  CHECK(with_env.pipeline.workers == 5);
  CHECK(with_env.pipeline.reads_in_flight == 4);

  auto with_cli = load({cfg.file.string(),
                        {{"SEGFLOW_PIPELINE_WORKERS", "5"}},
                        {{"pipeline.workers", "7"}}});
  CHECK(with_cli.pipeline.workers == 7);
}

TEST_CASE("an explicit setting wins over the profile's default", "[config]") {
  temp_config cfg("profile = \"planktoscope\"\n[segmentation]\nsize_units = \"um\"\n");
  auto s = load({cfg.file.string(), {}, {}});
  CHECK(s.run_profile == profile::planktoscope);
  CHECK(s.segmentation.size_units == units::micrometres);
  CHECK(s.exports.ids == object_ids::per_frame);
}

TEST_CASE("bad settings are errors naming the key and the file", "[config]") {
  SECTION("unknown key") {
    temp_config cfg("[pipeline]\nwokers = 3\n");
    auto err = error_of({cfg.file.string(), {}, {}});
    CHECK(err.find("pipeline.wokers") != std::string::npos);
    CHECK(err.find(cfg.file.string()) != std::string::npos);
  }
  SECTION("unknown section") {
    temp_config cfg("[segment]\nmin_esd = 3\n");
    auto err = error_of({cfg.file.string(), {}, {}});
    CHECK(err.find("segment.min_esd") != std::string::npos);
  }
  SECTION("wrong type") {
    temp_config cfg("[pipeline]\nworkers = \"three\"\n");
    auto err = error_of({cfg.file.string(), {}, {}});
    CHECK(err.find("pipeline.workers") != std::string::npos);
    CHECK(err.find("integer") != std::string::npos);
    CHECK(err.find(cfg.file.string()) != std::string::npos);
  }
  SECTION("out of range") {
    temp_config cfg("[segmentation]\ncrop_jpeg_quality = 101\n");
    auto err = error_of({cfg.file.string(), {}, {}});
    CHECK(err.find("segmentation.crop_jpeg_quality") != std::string::npos);
    CHECK(err.find("out of range") != std::string::npos);
  }
  SECTION("not a choice") {
    temp_config cfg("profile = \"fast\"\n");
    auto err = error_of({cfg.file.string(), {}, {}});
    CHECK(err.find("profile") != std::string::npos);
    CHECK(err.find("fast") != std::string::npos);
  }
  SECTION("invalid TOML") {
    temp_config cfg("[pipeline\nworkers = 3\n");
    auto err = error_of({cfg.file.string(), {}, {}});
    CHECK(err.find(cfg.file.string()) != std::string::npos);
  }
  SECTION("missing file") {
    auto err = error_of({"/nonexistent/segflow.toml", {}, {}});
    CHECK(err.find("/nonexistent/segflow.toml") != std::string::npos);
  }
  SECTION("bad environment value") {
    auto err = error_of({"", {{"SEGFLOW_PIPELINE_WORKERS", "-1"}}, {}});
    CHECK(err.find("SEGFLOW_PIPELINE_WORKERS") != std::string::npos);
    CHECK(err.find("pipeline.workers") != std::string::npos);
  }
  SECTION("unknown environment variable") {
    auto err = error_of({"", {{"SEGFLOW_PIPELINE_WOKERS", "2"}}, {}});
    CHECK(err.find("SEGFLOW_PIPELINE_WOKERS") != std::string::npos);
  }
  SECTION("SEGFLOW_ variables that are not settings are left alone") {
    for (auto& name : seg::config::other_segflow_variables())
      CHECK_NOTHROW(seg::config::load({"", {{name, "127.0.0.1:4750"}}, {}}));
  }
  SECTION("unknown command-line key") {
    auto err = error_of({"", {}, {{"pipeline.nope", "1"}}});
    CHECK(err.find("pipeline.nope") != std::string::npos);
  }
}

TEST_CASE("worker count defaults to cores - 1, at least 1", "[config]") {
  settings s;
  CHECK(effective_workers(s, 4) == 3);
  CHECK(effective_workers(s, 2) == 1);
  CHECK(effective_workers(s, 1) == 1);
  s.pipeline.workers = 6;
  CHECK(effective_workers(s, 2) == 6);
}

TEST_CASE("config: tiled frames in flight are bounded by tiling.frames_memory_mb, never "
          "below one",
          "[config][tiling]") {
  seg::config::tiling_settings t; // 2 frames, 1024 MB
  const std::int64_t mp50 = 8660LL * 5774 * 3, mp201 = 16384LL * 12288 * 3;
  CHECK(seg::config::tiled_frames_in_flight(t, mp50) == 2);   // 150 MB each: both fit
  CHECK(seg::config::tiled_frames_in_flight(t, mp201) == 1);  // 604 MB: two would not
  t.frames_memory_mb = 100;
  CHECK(seg::config::tiled_frames_in_flight(t, mp201) == 1);  // one always is read
  t.frames_memory_mb = 0;
  CHECK(seg::config::tiled_frames_in_flight(t, mp201) == 2);  // no bound in bytes
  t.frames_memory_mb = 1e6;
  t.frames_in_flight = 5;
  CHECK(seg::config::tiled_frames_in_flight(t, mp201) == 5);
  auto loaded = seg::config::load({"", {}, {{"tiling.frames_memory_mb", "0.5"}}});
  CHECK(loaded.tiling.frames_memory_mb == 0.5);
}
