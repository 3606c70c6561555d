// EcoTaxa import rules: each crafted violation is reported under its rule,
// naming the column/row/file; segflow's own output and the reference TSV pass.
#include "actors/io/ecotaxa/ecotaxa_validate.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>
#include <zip.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/io/ecotaxa/ecotaxa_tsv.hpp"
#include "actors/io/ecotaxa/ecotaxa_zip.hpp"
#include "actors/io/io_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace seg::io;

namespace {

using seg::test::temp_dir;

const std::string jpeg_head = "\xFF\xD8\xFF\xE0rest-of-a-jpeg";
const std::string png_head = std::string("\x89PNG\r\n\x1a\n", 8) + "rest";
const std::string gif_head = "GIF89a-rest";

// Writes a zip with the given entries (deflated, as other tools write them).
void make_zip(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(za != nullptr);
  for (auto& [name, data] : entries) {
    // libzip frees a buffer it owns with free(), so it comes from malloc.
    auto* buf = static_cast<char*>(std::malloc(data.size() + 1));
    REQUIRE(buf != nullptr);
    std::copy(data.begin(), data.end(), buf);
    zip_source_t* src = zip_source_buffer(za, buf, data.size(), 1);
    REQUIRE(src != nullptr);
    REQUIRE(zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8) >= 0);
  }
  REQUIRE(zip_close(za) == 0);
}

std::string row(const std::vector<std::string>& cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i)
    out += (i ? "\t" : "") + cells[i];
  return out + "\n";
}

// A valid TSV: header, types, two objects whose images are a.jpg and b.png.
struct tsv_builder {
  std::vector<std::string> names{"sample_id", "acq_id", "process_id", "object_id",
                                 "object_area", "object_MeanHue", "img_file_name", "img_rank"};
  std::vector<std::string> types{"[t]", "[t]", "[t]", "[t]", "[f]", "[f]", "[t]", "[f]"};
  std::vector<std::vector<std::string>> rows{
    {"s1", "a1", "p1", "o1", "12", "0.5", "a.jpg", "1"},
    {"s1", "a1", "p1", "o2", "13", "", "b.png", "1"}, // NaN, as pandas writes it
  };
  std::string text() const {
    std::string t = row(names) + row(types);
    for (auto& r : rows)
      t += row(r);
    return t;
  }
};

image_reader images(std::map<std::string, std::string> files = {{"a.jpg", jpeg_head},
                                                               {"b.png", png_head}}) {
  return [files](const std::string& name) -> std::optional<std::string> {
    auto it = files.find(name);
    if (it == files.end())
      return std::nullopt;
    return it->second;
  };
}

std::vector<ecotaxa_problem> check(const tsv_builder& b, const std::string& name = "ecotaxa_x.tsv",
                                   image_reader img = images()) {
  return validate_ecotaxa_tsv(name, b.text(), img);
}

std::string describe(const std::vector<ecotaxa_problem>& ps) {
  std::string out;
  for (auto& p : ps)
    out += to_string(p) + "\n";
  return out;
}

// The single problem of `ps` under `rule` (fails if there is not exactly one
// problem in all, so a crafted violation breaks that rule only).
std::string only(const std::vector<ecotaxa_problem>& ps, const std::string& rule) {
  INFO(describe(ps));
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].rule == rule);
  return ps[0].message;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("parse_tsv reads Python csv quoting", "[io][ecotaxa]") {
  auto rows = parse_tsv("a\tb\n\"x\ty\"\t\"say \"\"hi\"\"\"\n\"two\nlines\"\t\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"a", "b"});
  CHECK(rows[1] == std::vector<std::string>{"x\ty", "say \"hi\""});
  CHECK(rows[2] == std::vector<std::string>{"two\nlines", ""});
  CHECK(parse_tsv("a\r\nb").size() == 2);
  CHECK(parse_tsv("").empty());
}

TEST_CASE("a valid TSV has no problem", "[io][ecotaxa]") {
  tsv_builder b;
  auto ps = check(b);
  INFO(describe(ps));
  CHECK(ps.empty());
}

TEST_CASE("each broken rule is reported under its name", "[io][ecotaxa]") {
  tsv_builder b;
  SECTION("tsv-name") {
    CHECK(contains(only(check(b, "Ecotaxa_x.tsv"), "tsv-name"), "ecotaxa_*.tsv"));
    only(check(b, "export.tsv"), "tsv-name");
    CHECK(is_ecotaxa_tsv_name("ecotaxa_export.tsv"));
    CHECK_FALSE(is_ecotaxa_tsv_name("ecotaxa_.tsv"));
    CHECK_FALSE(is_ecotaxa_tsv_name("ecotaxa_x.TSV"));
  }
  SECTION("header") {
    CHECK(validate_ecotaxa_tsv("ecotaxa_x.tsv", row(b.names), images())[0].rule == "header");
  }
  SECTION("type-row") {
    b.types[4] = "[n]";
    CHECK(contains(only(check(b), "type-row"), "'object_area' has type '[n]'"));
    b.types[4] = "[f]";
    b.types.pop_back();
    CHECK(contains(only(check(b), "type-row"), "7 cells for 8 columns"));
  }
  SECTION("column-prefix") {
    b.names[4] = "Object_area";
    CHECK(contains(only(check(b), "column-prefix"), "column 5 'Object_area'"));
    b.names[4] = "area";
    only(check(b), "column-prefix");
    b.names[4] = "acquisition_area"; // "acq" without its underscore
    only(check(b), "column-prefix");
  }
  SECTION("column-unique") {
    b.names[5] = "object_AREA";
    CHECK(contains(only(check(b), "column-unique"), "columns 5 and 6"));
  }
  SECTION("parent-id") {
    b.names[0] = "sample_name";
    CHECK(contains(only(check(b), "parent-id"), "no sample_id column"));
  }
  SECTION("object-columns: 21 text columns") {
    for (int i = 0; i < 20; ++i) {
      b.names.push_back("object_t" + std::to_string(i));
      b.types.push_back("[t]");
      for (auto& r : b.rows)
        r.push_back("x");
    }
    CHECK(check(b).empty()); // 20 is the limit
    b.names.push_back("object_t20");
    b.types.push_back("[t]");
    for (auto& r : b.rows)
      r.push_back("x");
    CHECK(contains(only(check(b), "object-columns"), "21 text ([t]) object_ columns"));
  }
  SECTION("object-columns: 501 numeric columns") {
    for (int i = 0; i < 499; ++i) { // + object_area and object_MeanHue = 501
      b.names.push_back("object_n" + std::to_string(i));
      b.types.push_back("[f]");
      for (auto& r : b.rows)
        r.push_back("1");
    }
    CHECK(contains(only(check(b), "object-columns"), "501 numeric ([f]) object_ columns"));
  }
  SECTION("row-cells") {
    b.rows[1].pop_back();
    CHECK(contains(only(check(b), "row-cells"), "row 2 has 7 cells for 8 columns"));
  }
  SECTION("text-length") {
    b.rows[0][1] = std::string(250, 'a');
    CHECK(check(b).empty());
    b.rows[0][1] = std::string(251, 'a');
    CHECK(contains(only(check(b), "text-length"), "row 1, column 'acq_id': 251 characters"));
  }
  SECTION("numeric-value") {
    b.rows[1][4] = "12px";
    CHECK(contains(only(check(b), "numeric-value"), "column 'object_area': '12px'"));
  }
  SECTION("finite-value") {
    for (auto bad : {"inf", "-inf", "nan", "1e999", " Infinity"}) {
      b.rows[1][4] = bad;
      CHECK(contains(only(check(b), "finite-value"),
                     "column 'object_area': '" + std::string(bad) + "' is not a finite number"));
    }
    b.rows[1][4] = "12";
    b.rows[1][7] = "inf"; // img_rank: every [f] column
    CHECK(contains(only(check(b), "finite-value"), "column 'img_rank'"));
  }
  SECTION("object-id") {
    b.rows[1][3] = "o1";
    CHECK(contains(only(check(b), "object-id"), "'o1' already used in row 1"));
    b.rows[1][3] = "";
    CHECK(contains(only(check(b), "object-id"), "row 2: empty object_id"));
    b.names[3] = "object_name";
    CHECK(contains(only(check(b), "object-id"), "no object_id column"));
  }
  SECTION("image") {
    CHECK(contains(only(check(b, "ecotaxa_x.tsv", images({{"a.jpg", jpeg_head}})), "image"),
                   "'b.png' is missing"));
    CHECK(contains(only(check(b, "ecotaxa_x.tsv",
                              images({{"a.jpg", jpeg_head}, {"b.png", "BM-a-bitmap"}})),
                        "image"),
                   "'b.png' is not a PNG, JPEG or GIF"));
    CHECK(check(b, "ecotaxa_x.tsv", images({{"a.jpg", gif_head}, {"b.png", png_head}})).empty());
  }
}

TEST_CASE("per-cell problems are capped per column, with a count", "[io][ecotaxa]") {
  tsv_builder b;
  b.rows.clear();
  std::map<std::string, std::string> files;
  for (int i = 0; i < 12; ++i) {
    b.rows.push_back({"s", "a", "p", "o" + std::to_string(i), "bad", "1", "i.jpg", "1"});
    files["i.jpg"] = jpeg_head;
  }
  auto ps = check(b, "ecotaxa_x.tsv", images(files));
  REQUIRE(ps.size() == 6);
  CHECK(contains(ps[5].message, "7 more rows break this rule"));
}

TEST_CASE("archives: TSV names, images inside, deflated entries", "[io][ecotaxa]") {
  temp_dir t;
  tsv_builder b;
  auto zip = t.path / "good.zip";
  make_zip(zip, {{"a.jpg", jpeg_head}, {"b.png", png_head}, {"ecotaxa_x.tsv", b.text()}});
  auto ps = validate_ecotaxa_zip(zip);
  INFO(describe(ps));
  CHECK(ps.empty());

  SECTION("a TSV in a folder finds its images in that folder") {
    auto sub = t.path / "sub.zip";
    make_zip(sub, {{"d/a.jpg", jpeg_head}, {"d/b.png", png_head}, {"d/ecotaxa_x.tsv", b.text()},
                   {"a.jpg", "not an image"}});
    CHECK(validate_ecotaxa_zip(sub).empty());
  }
  SECTION("an upper-case TSV name is ignored by the importer") {
    auto bad = t.path / "upper.zip";
    make_zip(bad, {{"a.jpg", jpeg_head}, {"b.png", png_head}, {"ECOTAXA_x.tsv", b.text()}});
    auto ps2 = validate_ecotaxa_zip(bad);
    REQUIRE(ps2.size() == 2);
    CHECK(ps2[0].rule == "tsv-name");
    CHECK(contains(ps2[0].message, "ECOTAXA_x.tsv"));
    CHECK(contains(ps2[1].message, "no ecotaxa_*.tsv"));
  }
  SECTION("the problem names the archive and the entry") {
    b.rows[0][6] = "missing.jpg";
    auto bad = t.path / "missing.zip";
    make_zip(bad, {{"a.jpg", jpeg_head}, {"b.png", png_head}, {"ecotaxa_x.tsv", b.text()}});
    auto msg = only(validate_ecotaxa_zip(bad), "image");
    CHECK(contains(msg, bad.string() + "/ecotaxa_x.tsv"));
    CHECK(contains(msg, "'missing.jpg' is missing"));
  }
  SECTION("not a zip") {
    auto junk = t.path / "junk.zip";
    std::ofstream(junk) << "not a zip";
    CHECK_THROWS_AS(validate_ecotaxa_zip(junk), io_error);
  }
}

TEST_CASE("segflow's own TSV and zip writers produce valid archives", "[io][ecotaxa]") {
  temp_dir t;
  auto meta = nlohmann::ordered_json::parse(R"({
    "sample_project": "p", "sample_id": "s 1", "acq_id": "a1",
    "acq_camera_resolution": "4056x3040", "process_pixel": 0.75,
    "object_lat": 36.9, "acq_instrument": "PlanktoScope v2.6"})");
  process_fields proc;
  proc.datetime = "2024-01-01T00:00:00";
  proc.uuid = "00000000-0000-4000-8000-000000000000";
  proc.id = make_process_id(meta, "1");
  std::vector<tsv_object> objects(3);
  std::vector<zip_input> crops;
  for (int i = 0; i < 3; ++i) {
    objects[i].name = "s_1_a1_frame_" + std::to_string(i);
    objects[i].label = i;
    zip_input c;
    c.name = objects[i].name + ".jpg";
    c.bytes.assign(jpeg_head.begin(), jpeg_head.end());
    crops.push_back(c);
  }
  auto tsv = make_ecotaxa_tsv(meta, proc, objects, {true});
  auto zip = t.path / "ecotaxa_a1.zip";
  write_ecotaxa_zip(zip, crops, "ecotaxa_a1.tsv", tsv);
  auto ps = validate_ecotaxa_zip(zip);
  INFO(describe(ps));
  CHECK(ps.empty());
}

TEST_CASE("the reference segmenter's real TSV passes", "[io][ecotaxa][data]") {
  fs::path tsv = SEGFLOW_SHARED_DATA "/santa-cruz-wharf-planktoscope/"
                                     "Santa-cruz-wharf_20260304_WW/ecotaxa_export.tsv";
  INFO(tsv.string());
  REQUIRE(fs::exists(tsv));
  auto ps = validate_ecotaxa_tsv_file(tsv);
  INFO(describe(ps));
  CHECK(ps.empty());
}
