#include "actors/io/acquisition.hpp"

#include <atomic>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/output_layout.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

using seg::test::temp_dir;

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

const char* valid_metadata = R"({
    "sample_project": "my project",
    "sample_id": "s 1",
    "acq_id": "a1",
    "acq_camera_resolution": [4056, 3040],
    "frame_note": "dropped by the prefix filter",
    "object_date": "20250911",
    "acquisition_x": 1,
    "calibration_k": 2,
    "process_pixel": 0.75
})";

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const seg::io::io_error& e) {
    return e.what();
  }
  return "(no io_error)";
}

} // namespace

TEST_CASE("frame names follow the reference's suffix rule", "[io]") {
  using seg::io::is_frame_name;
  CHECK(is_frame_name("a.JPG"));
  CHECK(is_frame_name("b.jpeg"));
  CHECK(is_frame_name("B.JPEG"));
  CHECK(is_frame_name("djpg"));
  CHECK_FALSE(is_frame_name("c.Jpg"));
  CHECK_FALSE(is_frame_name("f.jpg.txt"));
}

TEST_CASE("PNG and TIFF frames are frames too, by the same suffix rule", "[io]") {
  using seg::io::is_frame_name;
  for (const char* name : {"e.png", "E.PNG", "scan.tif", "scan.TIF", "scan.tiff", "scan.TIFF"})
    CHECK(is_frame_name(name));
  for (const char* name : {"e.Png", "scan.Tif", "scan.tiff.txt", "scan.gif", "scan.bmp"})
    CHECK_FALSE(is_frame_name(name));
  CHECK(seg::io::frame_endings_text()
        == "jpg, JPG, jpeg, JPEG, png, PNG, tif, TIF, tiff or TIFF");
}

TEST_CASE("open_acquisition finds frames, data root and rel path", "[io]") {
  temp_dir d;
  const fs::path acq = d.path / "data" / "img" / "20250911" / "sample" / "acq";
  fs::create_directories(acq / "subdir.jpg");
  write_text(acq / "metadata.json", valid_metadata);
  for (const char* name : {"b.jpeg", "a.JPG", "c.Jpg", "djpg", "Z.jpg", "integrity.check"})
    write_text(acq / name, "x");
  write_text(acq / "subdir.jpg" / "inner.jpg", "x");

  const auto a = seg::io::open_acquisition(acq);
  // Byte-wise: upper case before lower case; the directory is not a frame.
  CHECK(a.frames == std::vector<std::string>{"Z.jpg", "a.JPG", "b.jpeg", "djpg"});
  CHECK(a.dir == acq);
  CHECK(a.data_root == d.path / "data");
  CHECK(a.rel == fs::path("20250911/sample/acq"));
  CHECK(seg::io::output_layout(a).objects_dir() == d.path / "data/objects/20250911/sample/acq");
  CHECK(seg::io::output_layout(a).export_dir() == d.path / "data/export/ecotaxa");

  // A trailing slash and a relative "." component give the same answer.
  const auto b = seg::io::open_acquisition(acq.string() + "/./");
  CHECK(b.dir == a.dir);
  CHECK(b.rel == a.rel);
}

TEST_CASE("open_acquisition rejects folders it cannot use, naming them", "[io]") {
  temp_dir d;
  const fs::path outside = d.path / "elsewhere" / "acq";
  fs::create_directories(outside);
  write_text(outside / "f.jpg", "x");
  std::string m = message_of([&] { seg::io::open_acquisition(outside); });
  CHECK_THAT(m, Catch::Contains(outside.string()) && Catch::Contains("not under an img/"));

  const fs::path empty = d.path / "img" / "empty";
  fs::create_directories(empty);
  m = message_of([&] { seg::io::open_acquisition(empty); });
  CHECK_THAT(m, Catch::Contains(empty.string()) && Catch::Contains("no frames")
                 && Catch::Contains("png") && Catch::Contains("TIFF"));

  m = message_of([&] { seg::io::open_acquisition(d.path / "img" / "nope"); });
  CHECK_THAT(m, Catch::Contains("nope") && Catch::Contains("does not exist"));

  // The img folder itself is not an acquisition below img/.
  write_text(d.path / "img" / "x.jpg", "x");
  m = message_of([&] { seg::io::open_acquisition(d.path / "img"); });
  CHECK_THAT(m, Catch::Contains("not under an img/"));
}

TEST_CASE("find_acquisition_dirs walks, sorts, de-duplicates and collects problems",
          "[io]") {
  temp_dir d;
  const fs::path img = d.path / "img";
  for (const char* rel : {"2025/s2/b", "2025/s1/z", "2025/s1/a", "2024/s/x"}) {
    fs::create_directories(img / rel);
    write_text(img / rel / "metadata.json", "{}");
  }
  fs::create_directories(img / "2025/s1/no-metadata");
  write_text(d.path / "plain-file", "x");

  auto found = seg::io::find_acquisition_dirs({img / "2025", img / "2025/s1/a"}, true);
  CHECK(found.problems.empty());
  CHECK(found.dirs
        == std::vector<fs::path>{img / "2025/s1/a", img / "2025/s1/z", img / "2025/s2/b"});

  found = seg::io::find_acquisition_dirs(
    {img / "2024/s/x", d.path / "missing", d.path / "plain-file", img / "2025/s1/no-metadata"},
    true);
  CHECK(found.dirs == std::vector<fs::path>{img / "2024/s/x"});
  REQUIRE(found.problems.size() == 3);
  CHECK_THAT(found.problems[0], Catch::Contains("missing") && Catch::Contains("does not exist"));
  CHECK_THAT(found.problems[1], Catch::Contains("plain-file")
                                  && Catch::Contains("not a directory"));
  CHECK_THAT(found.problems[2], Catch::Contains("no-metadata")
                                  && Catch::Contains("no acquisition found"));

  // Not recursive: the inputs themselves, in the given order.
  found = seg::io::find_acquisition_dirs({img / "2025/s2/b", img / "2025/s1/a", img / "2025"},
                                         false);
  CHECK(found.dirs == std::vector<fs::path>{img / "2025/s2/b", img / "2025/s1/a"});
  REQUIRE(found.problems.size() == 1);
  CHECK_THAT(found.problems[0], Catch::Contains("no metadata.json"));
}

TEST_CASE("read_metadata keeps key order and filter_metadata keeps the reference's keys",
          "[io]") {
  temp_dir d;
  write_text(d.path / "metadata.json", valid_metadata);
  const ordered_json raw = seg::io::read_metadata(d.path / "metadata.json");
  CHECK(raw.size() == 9);
  const ordered_json m = seg::io::filter_metadata(raw);
  std::vector<std::string> keys;
  for (const auto& [k, v] : m.items())
    keys.push_back(k);
  // Python's str.startswith: "acquisition_x" starts with "acq" and is kept.
  CHECK(keys
        == std::vector<std::string>{"sample_project", "sample_id", "acq_id",
                                    "acq_camera_resolution", "object_date", "acquisition_x",
                                    "process_pixel"});
  CHECK(m["acq_camera_resolution"] == "4056x3040");
  const auto px = seg::io::parse_process_pixel(m);
  REQUIRE(px.um_per_px);
  CHECK(*px.um_per_px == 0.75);
}

TEST_CASE("read_metadata errors name the file and the problem", "[io]") {
  temp_dir d;
  const fs::path f = d.path / "metadata.json";

  write_text(f, R"({"sample_project": "p", "acq_camera_resolution": "1x1"})");
  std::string m = message_of([&] { seg::io::read_metadata(f); });
  CHECK_THAT(m, Catch::Contains(f.string()) && Catch::Contains("sample_id")
                  && Catch::Contains("acq_id"));
  CHECK_THAT(m, !Catch::Contains("sample_project"));

  write_text(f, "{\"sample_project\": \"p\",\n  \"sample_id\": }");
  m = message_of([&] { seg::io::read_metadata(f); });
  CHECK_THAT(m, Catch::Contains(f.string()) && Catch::Contains("invalid JSON")
                  && Catch::Contains("line 2"));

  write_text(f, "[1, 2]");
  m = message_of([&] { seg::io::read_metadata(f); });
  CHECK_THAT(m, Catch::Contains(f.string()) && Catch::Contains("not a JSON object"));

  write_text(f, R"({"sample_project": "p", "sample_id": 5, "acq_id": "a",
                   "acq_camera_resolution": "1x1"})");
  m = message_of([&] { seg::io::read_metadata(f); });
  CHECK_THAT(m, Catch::Contains("sample_id must be a string"));

  write_text(f, R"({"sample_project": "p", "sample_id": "s", "acq_id": "a",
                   "acq_camera_resolution": 7})");
  m = message_of([&] { seg::io::read_metadata(f); });
  CHECK_THAT(m, Catch::Contains("acq_camera_resolution"));

  m = message_of([&] { seg::io::read_metadata(d.path / "absent.json"); });
  CHECK_THAT(m, Catch::Contains("absent.json") && Catch::Contains("cannot open"));
}

TEST_CASE("process_pixel is valid only as a positive finite number", "[io]") {
  auto parse = [](const char* json) {
    return seg::io::parse_process_pixel(ordered_json::parse(json));
  };
  CHECK(*parse(R"({"process_pixel": 0.75})").um_per_px == 0.75);
  CHECK(*parse(R"({"process_pixel": 2})").um_per_px == 2.0);
  CHECK(*parse(R"({"process_pixel": "0.75"})").um_per_px == 0.75);
  CHECK(*parse(R"({"process_pixel": " 1.5e-1 "})").um_per_px == 0.15);
  CHECK(*parse(R"({"process_pixel": "+3"})").um_per_px == 3.0);
  for (const char* bad : {R"({})", R"({"process_pixel": 0})", R"({"process_pixel": -1})",
                          R"({"process_pixel": true})", R"({"process_pixel": "abc"})",
                          R"({"process_pixel": "1.5x"})", R"({"process_pixel": ""})",
                          R"({"process_pixel": "inf"})", R"({"process_pixel": null})",
                          R"({"process_pixel": [1]})", R"({"process_pixel": "0x10"})"}) {
    INFO(bad);
    const auto px = parse(bad);
    CHECK_FALSE(px.um_per_px);
    CHECK_THAT(px.reason, Catch::Contains("process_pixel"));
  }
}

TEST_CASE("ids are made safe for file names or refused", "[io]") {
  using seg::io::safe_file_component;
  CHECK(safe_file_component("dev small", "acq_id") == "dev_small");
  CHECK(seg::io::ecotaxa_zip_name("my acq") == "ecotaxa_my_acq.zip");
  CHECK(seg::io::ecotaxa_tsv_name("dev-small") == "ecotaxa_dev-small.tsv");
  for (const std::string& bad : {std::string("../x"), std::string("a/b"), std::string(".."),
                                std::string(".hidden"), std::string(""), std::string("a\\b"),
                                std::string("a\0b", 3), std::string("new\nline"),
                                std::string(201, 'x')}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH(safe_file_component(bad, "metadata.json acq_id"),
                      Catch::Contains("metadata.json acq_id"));
  }
}
