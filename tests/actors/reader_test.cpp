// The reader's CAF-free parts: the flat window's replacement rule, and
// resolve_plan on hostile metadata.json files (fuzz: no crash, every error a
// std::runtime_error naming the file).
#include "actors/reader.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "kernels/flat_field.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using seg::flat_window;

namespace {

using seg::test::temp_dir;

// Runs the window as the reader does, settling pending slots in a random
// order (workers answer in any order); returns the chosen frames.
std::vector<std::uint32_t> run_window(std::size_t n, std::size_t flat_frames,
                                      const std::vector<bool>& bad, std::mt19937& rng) {
  flat_window w(n, flat_frames);
  std::vector<std::size_t> pending;
  for (std::size_t s = 0; s < w.slots(); ++s)
    pending.push_back(s);
  while (!pending.empty()) {
    std::size_t i = rng() % pending.size();
    auto slot = pending[i];
    if (bad[w.frame(slot)]) {
      if (!w.replace(slot))
        pending.erase(pending.begin() + std::ptrdiff_t(i));
    } else {
      w.accept(slot);
      pending.erase(pending.begin() + std::ptrdiff_t(i));
    }
  }
  REQUIRE(w.complete());
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  return frames;
}

} // namespace

TEST_CASE("flat window: the flat of the acquisition without its bad files", "[reader]") {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 5000; ++trial) {
    std::size_t n = 1 + rng() % 30;
    std::size_t flat_frames = std::vector<std::size_t>{10, 10, 1, 2, 5, 11}[rng() % 6];
    double p = std::vector<double>{0, 0.1, 0.3, 0.7, 1}[rng() % 5];
    std::vector<bool> bad(n);
    std::vector<std::uint32_t> good;
    for (std::size_t f = 0; f < n; ++f) {
      bad[f] = std::uniform_real_distribution<double>(0, 1)(rng) < p;
      if (!bad[f])
        good.push_back(std::uint32_t(f));
    }
    // What the reference's rule gives on the good frames alone (SPEC §2.1).
    std::vector<std::uint32_t> expected;
    for (auto i : seg::kernels::initial_flat_indices(good.size(), flat_frames))
      expected.push_back(good[i]);
    INFO("n=" << n << " flat_frames=" << flat_frames << " good=" << good.size());
    CHECK(run_window(n, flat_frames, bad, rng) == expected);
  }
}

TEST_CASE("flat window: replacements come in frame order after the window", "[reader]") {
  flat_window w(20, 10);
  REQUIRE(w.slots() == 9);
  CHECK(w.frame(3) == 3);
  CHECK(w.replace(3) == 9u);
  CHECK(w.replace(3) == 10u); // the replacement was bad too
  CHECK(w.replace(0) == 11u);
  for (std::size_t s = 0; s < 9; ++s)
    w.accept(s);
  CHECK(w.replace(3) == std::nullopt); // settled slots stay as they are
  CHECK(w.bad_frames() == 3);
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{1, 2, 4, 5, 6, 7, 8, 10, 11});
}

TEST_CASE("flat window: fewer good frames than the flat needs", "[reader]") {
  // 6 frames: the reference takes 5 (odd). Frames 1 and 4 are bad: 4 good
  // frames remain, an even count, so 3 are used: 0, 2, 3.
  flat_window w(6, 10);
  REQUIRE(w.slots() == 5);
  CHECK(w.replace(1) == 5u);
  CHECK_FALSE(w.replace(4));
  for (auto s : {0, 1, 2, 3})
    w.accept(std::size_t(s));
  REQUIRE(w.complete());
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{0, 2, 3});
  // No good frame at all: nothing to compute a flat from.
  flat_window none(2, 10); // 2 frames: 1 slot (odd count)
  REQUIRE(none.slots() == 1);
  CHECK(none.replace(0) == 1u);
  CHECK_FALSE(none.replace(0));
  CHECK(none.complete());
  CHECK(none.chosen().empty());
}

TEST_CASE("flat window: a recalculation window replaces bad frames after it", "[reader]") {
  // Frame 12's window in 24 frames is 12..20 (SPEC §2.1); 15 is bad: 21 takes
  // its place.
  flat_window w(seg::kernels::recalc_flat_indices(12, 24), 24);
  REQUIRE(w.slots() == 9);
  CHECK(w.frame(0) == 12);
  CHECK(w.replace(3) == 21u);
  for (std::size_t s = 0; s < 9; ++s)
    w.accept(s);
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{12, 13, 14, 16, 17, 18, 19, 20, 21});
  // Frame 22's window in 23 frames is the previous ten, 12..20 (9 used); with
  // 13 bad, 21 and 22 follow (22 bad too); then nothing is left: 8 good
  // frames, an even count, so 7 are used.
  flat_window end(seg::kernels::recalc_flat_indices(22, 23), 23);
  REQUIRE(end.slots() == 9);
  CHECK(end.frame(0) == 12);
  CHECK(end.replace(1) == 21u);
  CHECK(end.replace(1) == 22u);
  CHECK_FALSE(end.replace(1));
  for (std::size_t s = 0; s < 9; ++s)
    end.accept(s);
  frames.clear();
  for (auto s : end.chosen())
    frames.push_back(end.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{12, 14, 15, 16, 17, 18, 19});
}

namespace {

// An acquisition folder with one (unread) frame; metadata.json is written by
// each case.
struct acquisition_dir {
  temp_dir t;
  fs::path dir;
  acquisition_dir() {
    dir = t.path / "img" / "20240101" / "s" / "a";
    fs::create_directories(dir);
    std::ofstream(dir / "2024-01-01_00-00-00-000000.jpg") << "x";
  }
  void write_metadata(const std::string& text) const {
    std::ofstream out(dir / "metadata.json", std::ios::binary | std::ios::trunc);
    out << text;
  }
};

nlohmann::ordered_json valid_metadata() {
  return nlohmann::ordered_json::parse(R"({
    "sample_project": "proj", "sample_id": "s1", "sample_operator": "me",
    "acq_id": "a1", "acq_instrument": "PlanktoScope v2.6",
    "acq_camera_resolution": "4056x3040", "acq_minimum_mesh": 20,
    "object_date": "20240101", "object_lat": 36.9, "object_lon": -122.0,
    "process_pixel": 0.75, "other": {"nested": [1, 2, 3]}})");
}

// Outcome of resolve_plan: "" if it succeeded, else the error text. Fails
// the test if anything but a std::runtime_error naming the folder escapes.
std::string resolve(const acquisition_dir& a, std::vector<std::string> overrides = {}) {
  seg::job_spec spec;
  spec.id = 1;
  spec.path = a.dir.string();
  spec.overrides = std::move(overrides);
  try {
    seg::resolve_plan(spec, {});
    return "";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    CHECK(what.find(a.dir.string()) != std::string::npos);
    return what.empty() ? "?" : what;
  } catch (const std::exception& e) {
    FAIL("not a runtime_error: " << e.what());
  }
  return "?";
}

nlohmann::ordered_json random_value(std::mt19937& rng, int depth) {
  switch (rng() % (depth > 3 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return bool(rng() % 2);
    case 2: return std::int64_t(rng()) - std::int64_t(rng());
    case 3: return std::vector<double>{0.0, -1.5, 1e308, -0.0, 5e-324, 0.75}[rng() % 6];
    case 4: {
      static const std::vector<std::string> texts = {
        "", " ", "0.75", " 1e-3 ", "-2", "nan", "inf", "abc", "../../etc", "a/b", ".hidden",
        "x\ty", "tab\there", "new\nline", "quote\"", "µm", std::string(300, 'z'), "0x10",
        std::string("nul\0byte", 8)};
      return texts[rng() % texts.size()];
    }
    case 5: return std::string(std::size_t(rng() % 40), char('a' + rng() % 26));
    case 6: {
      auto arr = nlohmann::ordered_json::array();
      for (unsigned i = 0; i < rng() % 4; ++i)
        arr.push_back(random_value(rng, depth + 1));
      return arr;
    }
    default: {
      auto obj = nlohmann::ordered_json::object();
      for (unsigned i = 0; i < rng() % 4; ++i)
        obj["k" + std::to_string(i)] = random_value(rng, depth + 1);
      return obj;
    }
  }
}

} // namespace

TEST_CASE("resolve_plan names the problem with metadata.json", "[reader]") {
  acquisition_dir a;
  auto m = valid_metadata();
  a.write_metadata(m.dump());
  CHECK(resolve(a).empty());

  fs::remove(a.dir / "metadata.json");
  CHECK(resolve(a).find("metadata.json") != std::string::npos);

  a.write_metadata("{\"sample_id\": ");
  CHECK(resolve(a).find("invalid JSON") != std::string::npos);

  auto missing = m;
  missing.erase("acq_id");
  missing.erase("sample_project");
  a.write_metadata(missing.dump());
  auto why = resolve(a);
  CHECK(why.find("sample_project") != std::string::npos);
  CHECK(why.find("acq_id") != std::string::npos);

  auto escape = m;
  escape["acq_id"] = "a/../../x";
  a.write_metadata(escape.dump());
  CHECK(resolve(a).find("path separator") != std::string::npos);
}

TEST_CASE("resolve_plan: process_pixel warns, or fails when required", "[reader]") {
  acquisition_dir a;
  for (auto bad : {nlohmann::ordered_json(0), nlohmann::ordered_json(-0.5),
                   nlohmann::ordered_json("abc"), nlohmann::ordered_json(nullptr)}) {
    auto m = valid_metadata();
    m["process_pixel"] = bad;
    a.write_metadata(m.dump());
    INFO(bad.dump());
    seg::job_spec spec;
    spec.path = a.dir.string();
    auto plan = seg::resolve_plan(spec, {});
    REQUIRE(plan.warnings.size() == 1);
    CHECK(plan.warnings[0].find("sizes are in pixels") != std::string::npos);
    CHECK(plan.params.pixel_size_um == 0);
    auto why = resolve(a, {"segmentation.require_process_pixel=true"});
    CHECK(why.find("process_pixel") != std::string::npos);
    CHECK(why.find("require_process_pixel") != std::string::npos);
    // Pixel units never need it.
    CHECK(resolve(a, {"segmentation.require_process_pixel=true",
                      "segmentation.size_units=px"}).empty());
  }
  auto m = valid_metadata();
  m.erase("process_pixel");
  a.write_metadata(m.dump());
  CHECK(resolve(a, {"segmentation.require_process_pixel=true"})
          .find("not in metadata.json") != std::string::npos);
}

TEST_CASE("resolve_plan refuses metadata EcoTaxa would not import", "[reader]") {
  acquisition_dir a;
  auto m = valid_metadata();
  m["sample_comment"] = std::string(251, 'c');
  a.write_metadata(m.dump());
  auto why = resolve(a);
  CHECK(why.find("[text-length]") != std::string::npos);
  CHECK(why.find("sample_comment") != std::string::npos);
  CHECK(resolve(a, {"export.ecotaxa=false"}).empty());

  m = valid_metadata();
  m["acquisition_note"] = "kept by the prefix filter, refused by EcoTaxa";
  a.write_metadata(m.dump());
  CHECK(resolve(a).find("[column-prefix]") != std::string::npos);
}

TEST_CASE("resolve_plan survives random metadata.json files", "[reader][fuzz]") {
  acquisition_dir a;
  std::mt19937 rng(2024);
  int ok = 0, refused = 0;
  const auto base = valid_metadata();
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text;
    switch (trial % 4) {
      case 0: { // structural mutations of a valid document
        auto m = base;
        for (unsigned k = 0; k < 1 + rng() % 4; ++k) {
          auto keys = std::vector<std::string>{"sample_project", "sample_id", "acq_id",
                                               "acq_camera_resolution", "process_pixel",
                                               "object_lat", "acq_new", "sample_x",
                                               "process_y", "objectz"};
          auto& key = keys[rng() % keys.size()];
          if (rng() % 4 == 0)
            m.erase(key);
          else
            m[key] = random_value(rng, 0);
        }
        text = m.dump();
        break;
      }
      case 1: { // byte mutations of valid text
        text = base.dump(4);
        for (unsigned k = 0; k < 1 + rng() % 8; ++k) {
          auto at = rng() % text.size();
          switch (rng() % 3) {
            case 0: text[at] = char(rng()); break;
            case 1: text.erase(at, 1 + rng() % 5); break;
            default: text.insert(at, 1, char(rng())); break;
          }
          if (text.empty())
            break;
        }
        break;
      }
      case 2: // random bytes
        text.resize(rng() % 200);
        for (auto& c : text)
          c = char(rng());
        break;
      default: // any JSON value at the top
        text = random_value(rng, 0).dump();
        break;
    }
    a.write_metadata(text);
    if (resolve(a).empty())
      ++ok;
    else
      ++refused;
  }
  // Deep nesting must not exhaust the stack either.
  a.write_metadata("{\"sample_project\":\"p\",\"sample_id\":\"s\",\"acq_id\":\"a\","
                   "\"acq_camera_resolution\":\"1x1\",\"acq_deep\":"
                   + std::string(20000, '[') + std::string(20000, ']') + "}");
  resolve(a);
  INFO("accepted " << ok << ", refused " << refused);
  CHECK(ok > 0);
  CHECK(refused > 0);
}
