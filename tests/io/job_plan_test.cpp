// resolve_job on real folders and hostile metadata.json files (fuzz: no
// crash, every error a std::runtime_error naming the file).
#include "actors/io/job_plan.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using seg::test::temp_dir;

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

// Outcome of resolve_job: "" if it succeeded, else the error text. Fails
// the test if anything but a std::runtime_error naming the folder escapes.
std::string resolve(const acquisition_dir& a, std::vector<std::string> overrides = {}) {
  seg::job_spec spec;
  spec.id = 1;
  spec.path = a.dir.string();
  spec.overrides = std::move(overrides);
  try {
    seg::resolve_job(spec, {});
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

TEST_CASE("resolve_job names the problem with metadata.json", "[job_plan]") {
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

TEST_CASE("resolve_job: process_pixel warns, or fails when required", "[job_plan]") {
  acquisition_dir a;
  for (auto bad : {nlohmann::ordered_json(0), nlohmann::ordered_json(-0.5),
                   nlohmann::ordered_json("abc"), nlohmann::ordered_json(nullptr)}) {
    auto m = valid_metadata();
    m["process_pixel"] = bad;
    a.write_metadata(m.dump());
    INFO(bad.dump());
    seg::job_spec spec;
    spec.path = a.dir.string();
    auto plan = seg::resolve_job(spec, {}).plan;
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

TEST_CASE("resolve_job refuses metadata EcoTaxa would not import", "[job_plan]") {
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

  // Ids that make every object id too long are the metadata's problem.
  m = valid_metadata();
  m["sample_id"] = std::string(120, 's');
  m["acq_id"] = std::string(120, 'a');
  a.write_metadata(m.dump());
  why = resolve(a);
  CHECK(why.find("[text-length]") != std::string::npos);
  CHECK(why.find("object_id") != std::string::npos);
}

TEST_CASE("resolve_job leaves a frame's own long name to that frame", "[job_plan]") {
  // The object ids of this frame exceed EcoTaxa's 250 characters: the frame
  // fails when committed (io::frame_name_problem), not the job.
  acquisition_dir a;
  std::ofstream(a.dir / (std::string(196, 'f') + ".jpg")) << "x";
  auto m = valid_metadata();
  m["sample_id"] = std::string(40, 's');
  m["acq_id"] = std::string(40, 'a');
  a.write_metadata(m.dump());
  CHECK(resolve(a).empty());
}

TEST_CASE("resolve_job survives random metadata.json files", "[job_plan][fuzz]") {
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

TEST_CASE("resolve_job loads the job's settings once, overrides on top", "[job_plan]") {
  acquisition_dir a;
  a.write_metadata(valid_metadata().dump());
  seg::job_spec spec;
  spec.path = a.dir.string();
  auto plain = seg::resolve_job(spec, {});
  CHECK_FALSE(plain.flat_recalculate);
  CHECK(plain.plan.params.remove_previous_mask == false);
  CHECK(plain.plan.flat_frames == std::vector<std::uint32_t>{0});
  spec.overrides = {"segmentation.flat_recalculate=true",
                    "segmentation.remove_previous_mask=true", "export.ecotaxa=false"};
  auto job = seg::resolve_job(spec, {});
  CHECK(job.flat_recalculate);
  CHECK(job.plan.params.remove_previous_mask);
  CHECK_FALSE(job.plan.ecotaxa);
  // The planktoscope profile turns the recalculation on by itself.
  seg::config::sources profile;
  profile.overrides = {{"profile", "planktoscope"}};
  spec.overrides.clear();
  CHECK(seg::resolve_job(spec, profile).flat_recalculate);
  spec.overrides = {"segmentation.flat_recalculate"};
  CHECK_THROWS_WITH(seg::resolve_job(spec, {}),
                    Catch::Contains("'segmentation.flat_recalculate' is not key=value"));
}
