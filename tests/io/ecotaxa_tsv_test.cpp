#include "actors/io/ecotaxa/ecotaxa_tsv.hpp"

#include <cmath>
#include <limits>
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/output_layout.hpp"

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos)
      return out;
    start = pos + 1;
  }
}

// One reference row, cells by column name.
struct ref_row {
  const std::map<std::string, std::size_t>* index;
  std::vector<std::string> cells;
  const std::string& operator()(const std::string& name) const {
    return cells.at(index->at(name));
  }
  double real(const std::string& name) const {
    return std::strtod((*this)(name).c_str(), nullptr);
  }
  int integer(const std::string& name) const {
    return std::stoi((*this)(name));
  }
};

// The features of one reference row, mapped by hand (not through the
// writer's own table) so a wrong column mapping cannot cancel out.
seg::kernels::object_features features_of(const ref_row& r) {
  seg::kernels::object_features f;
  f.width = r.integer("object_width");
  f.height = r.integer("object_height");
  f.bx = r.integer("object_bx");
  f.by = r.integer("object_by");
  f.circ = r.real("object_circ.");
  f.area_exc = r.real("object_area_exc");
  f.area = r.real("object_area");
  f.percent_area = r.real("object_%area");
  f.major = r.real("object_major");
  f.minor = r.real("object_minor");
  f.y = r.real("object_y");
  f.x = r.real("object_x");
  f.convex_area = r.real("object_convex_area");
  f.perimeter = r.real("object_perim.");
  f.elongation = r.real("object_elongation");
  f.perim_area_exc = r.real("object_perimareaexc");
  f.perim_major = r.real("object_perimmajor");
  f.circex = r.real("object_circex");
  f.angle = r.real("object_angle");
  f.bounding_box_area = r.real("object_bounding_box_area");
  f.eccentricity = r.real("object_eccentricity");
  f.equivalent_diameter = r.real("object_equivalent_diameter");
  f.euler_number = r.integer("object_euler_number");
  f.extent = r.real("object_extent");
  f.local_centroid_col = r.real("object_local_centroid_col");
  f.local_centroid_row = r.real("object_local_centroid_row");
  f.solidity = r.real("object_solidity");
  f.blur_laplacian = r.real("object_blur_laplacian");
  f.mean_hue = r.real("object_MeanHue");
  f.mean_saturation = r.real("object_MeanSaturation");
  f.mean_value = r.real("object_MeanValue");
  f.std_hue = r.real("object_StdHue");
  f.std_saturation = r.real("object_StdSaturation");
  f.std_value = r.real("object_StdValue");
  return f;
}

// Rebuilds the reference TSV of a composed set from its metadata.json and
// the reference's own cells, and compares bytes.
void check_reference_tsv(const std::string& set) {
  const fs::path root = fs::path(SEGFLOW_SHARED_DATA) / "composed" / set;
  const std::string reference =
    seg::io::read_file(root / "reference" / ("ecotaxa_" + set + ".tsv"));
  REQUIRE(reference.size() > 1000);
  REQUIRE(reference.back() == '\n');
  auto lines = split(reference.substr(0, reference.size() - 1), '\n');
  REQUIRE(lines.size() > 2);
  const auto header = split(lines[0], '\t');
  std::map<std::string, std::size_t> index;
  for (std::size_t j = 0; j < header.size(); ++j)
    index[header[j]] = j;
  std::vector<ref_row> rows;
  for (std::size_t k = 2; k < lines.size(); ++k) {
    rows.push_back({&index, split(lines[k], '\t')});
    REQUIRE(rows.back().cells.size() == header.size());
  }

  const auto found = seg::io::find_acquisition_dirs({root / "img"}, true);
  REQUIRE(found.problems.empty());
  REQUIRE(found.dirs.size() == 1);
  const auto acq = seg::io::open_acquisition(found.dirs[0]);
  const ordered_json raw = seg::io::read_metadata(acq.dir / "metadata.json");
  const ordered_json meta = seg::io::filter_metadata(raw);

  seg::io::process_fields process;
  process.datetime = rows[0]("process_datetime");
  process.uuid = rows[0]("process_uuid");
  process.id = seg::io::make_process_id(raw, "1"); // the reference ran with process_id 1
  CHECK(process.id == rows[0]("process_id"));

  std::vector<seg::io::tsv_object> objects;
  for (const auto& r : rows)
    objects.push_back({r("object_id"), std::stoll(r("object_label")), features_of(r)});
  // Object names come from the frame names (SPEC §3.5).
  CHECK(objects.front().name.rfind(fs::path(acq.frames.front()).stem().string(), 0) == 0);

  const std::string tsv = seg::io::make_ecotaxa_tsv(meta, process, objects);
  if (tsv != reference) {
    const auto mine = split(tsv, '\n');
    for (std::size_t k = 0; k < std::min(mine.size(), lines.size()); ++k) {
      if (mine[k] != lines[k]) {
        const auto a = split(mine[k], '\t');
        const auto b = split(lines[k], '\t');
        for (std::size_t j = 0; j < std::min(a.size(), b.size()); ++j)
          if (a[j] != b[j])
            FAIL_CHECK("line " << k + 1 << " column " << header[j] << ": '" << a[j]
                               << "' vs reference '" << b[j] << "'");
        CHECK(a.size() == b.size());
        break;
      }
    }
  }
  CHECK(tsv.size() == reference.size());
  CHECK(tsv == reference);
  CHECK(seg::io::ecotaxa_tsv_name(meta["acq_id"].get<std::string>())
        == "ecotaxa_" + set + ".tsv");
}

seg::kernels::object_features simple_features() {
  seg::kernels::object_features f;
  f.width = 3;
  f.height = 4;
  f.area_exc = 10;
  f.area = 11;
  f.convex_area = 12;
  f.bounding_box_area = 12;
  f.percent_area = 1.0 - 10.0 / 11.0;
  f.major = 2.5;
  f.euler_number = -1;
  return f;
}

} // namespace

TEST_CASE("TSV is byte-identical to the reference (dev-small)", "[io]") {
  check_reference_tsv("dev-small");
}

TEST_CASE("TSV is byte-identical to the reference (dev-a)", "[io]") {
  check_reference_tsv("dev-a");
}

TEST_CASE("object columns are in the order of the real santa-cruz export", "[io]") {
  // The santa-cruz TSV (reference v2024.0.0-beta.1) predates the blur column.
  const fs::path scw = fs::path(SEGFLOW_SHARED_DATA) / "santa-cruz-wharf-planktoscope"
                       / "Santa-cruz-wharf_20260304_WW"
                       / "ecotaxa_export.tsv";
  const std::string real = seg::io::read_file(scw);
  const auto real_header = split(real.substr(0, real.find('\n')), '\t');
  ordered_json meta = ordered_json::parse(R"({"sample_project": "p", "sample_id": "s"})");
  const std::string tsv = seg::io::make_ecotaxa_tsv(meta, {}, {});
  auto ours = split(tsv.substr(0, tsv.find('\n')), '\t');
  auto object_part = [](std::vector<std::string> cols) {
    std::vector<std::string> out;
    for (auto& c : cols)
      if (c.rfind("object_", 0) == 0 && c.rfind("object_date", 0) != 0
          && c.rfind("object_time", 0) != 0 && c.rfind("object_lat", 0) != 0
          && c.rfind("object_lon", 0) != 0 && c.rfind("object_depth", 0) != 0
          && c != "object_blur_laplacian")
        out.push_back(c);
    return out;
  };
  CHECK(object_part(ours) == object_part(real_header));
  CHECK(ours.back() == "img_rank");
  CHECK(real_header.back() == "img_rank");
}

TEST_CASE("TSV cells: types, quoting, nulls and key positions follow pandas", "[io]") {
  const ordered_json meta = ordered_json::parse(R"({
    "sample_project": "p",
    "process_id": "old",
    "object_label": "from metadata",
    "sample_tab": "a\tb",
    "sample_quote": "say \"hi\"",
    "sample_cr": "x\ry",
    "sample_dict": {"k": "it's"},
    "sample_list": [1, "a", null],
    "sample_bool": true,
    "sample_null": null,
    "sample_small": 1e-5,
    "sample_int": 7
  })");
  seg::io::process_fields process{"2026-01-01T00:00:00", "u-1", "p_s_1", true};
  auto f = simple_features();
  f.elongation = std::numeric_limits<double>::quiet_NaN();
  f.angle = std::numeric_limits<double>::infinity();
  const std::string tsv = seg::io::make_ecotaxa_tsv(meta, process, {{"fr_0", 5, f}});
  const auto lines = split(tsv, '\n');
  REQUIRE(lines.size() == 4); // 3 lines + the empty string after the final '\n'
  CHECK(lines[3].empty());
  const auto names = split(lines[0], '\t');
  const auto types = split(lines[1], '\t');
  REQUIRE(names.size() == types.size());
  std::map<std::string, std::size_t> col;
  for (std::size_t j = 0; j < names.size(); ++j)
    col[names[j]] = j;
  // Expected cells as Python 3.11's csv.writer(delimiter='\t') writes them.
  const std::string row = lines[2];
  CHECK(row.find("\"a\tb\"\t\"say \"\"hi\"\"\"\tx\ry\t\"{'k': \"\"it's\"\"}\"\t[1, 'a', None]\tTrue\t\t1e-05\t7\t")
        != std::string::npos);
  // Splitting on TAB is safe below: only the quoted sample_tab holds one.
  auto cells = split(row, '\t');
  cells.erase(cells.begin() + static_cast<long>(col["sample_tab"]) + 1);
  REQUIRE(cells.size() == names.size());
  auto cell = [&](const std::string& n) { return cells.at(col.at(n)); };
  auto type = [&](const std::string& n) { return types.at(col.at(n)); };

  // Existing keys keep their position and take the new value.
  CHECK(col["process_id"] == 1);
  CHECK(cell("process_id") == "p_s_1");
  CHECK(col["object_label"] == 2);
  CHECK(cell("object_label") == "5");
  CHECK(type("object_label") == "[f]");
  CHECK(cell("process_3rd_operation") == "{'type': 'remove_previous_mask', 'parameters': {}}");
  CHECK(names[col["process_datetime"] + 1] == "process_uuid");

  CHECK(type("sample_project") == "[t]");
  CHECK(type("sample_bool") == "[t]");
  CHECK(type("sample_null") == "[t]");
  CHECK(type("sample_dict") == "[t]");
  CHECK(type("sample_small") == "[f]");
  CHECK(type("sample_int") == "[f]");
  CHECK(type("object_id") == "[t]");
  CHECK(type("img_rank") == "[f]");

  CHECK(cell("object_width") == "3");
  CHECK(cell("object_area_exc") == "10");
  CHECK(cell("object_area") == "11");
  CHECK(cell("object_%area") == "0.09090909090909094"); // python3: 1 - 10/11
  CHECK(cell("object_major") == "2.5");
  CHECK(cell("object_minor") == "0.0");
  CHECK(cell("object_euler_number") == "-1");
  CHECK(cell("object_elongation").empty()); // NaN → empty, as pandas
  CHECK(cell("object_angle") == "inf");
  CHECK(cell("object_id") == "fr_0");
  CHECK(cell("img_file_name") == "fr_0.jpg");
  CHECK(cell("img_rank") == "1");
  CHECK(names.back() == "img_rank");

  // In µm the areas are floats.
  seg::io::tsv_options scaled;
  scaled.scaled_units = true;
  auto g = simple_features();
  g.area = 6.1875;
  const std::string tsv2 = seg::io::make_ecotaxa_tsv(meta, process, {{"fr_0", 5, g}}, scaled);
  auto cells2 = split(split(tsv2, '\n')[2], '\t');
  cells2.erase(cells2.begin() + static_cast<long>(col["sample_tab"]) + 1);
  CHECK(cells2.at(col["object_area"]) == "6.1875");
  CHECK(cells2.at(col["object_area_exc"]) == "10.0");
  CHECK(cells2.at(col["object_width"]) == "3");
}

TEST_CASE("process_id follows the reference's rule", "[io]") {
  const ordered_json m = ordered_json::parse(R"({"sample_project": "my proj", "sample_id": "s 1"})");
  CHECK(seg::io::make_process_id(m, "1") == "my_proj_s_1_1");
  CHECK(seg::io::make_process_id(m, "a b") == "my_proj_s_1_a b");
}
