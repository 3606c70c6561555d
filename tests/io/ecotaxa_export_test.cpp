#include "actors/io/ecotaxa/ecotaxa_export.hpp"

#include <algorithm>
#include <fstream>

#include <catch2/catch.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/ecotaxa/ecotaxa_validate.hpp"
#include "actors/io/output_layout.hpp"
#include "messages/job.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

struct export_fixture {
  seg::test::temp_dir d;
  seg::job_plan plan;
  seg::io::output_layout layout;
  seg::io::ecotaxa_objects objects;

  export_fixture() {
    plan.acquisition = (d.path / "img/d/s/a").string();
    plan.data_root = d.path.string();
    plan.rel = "d/s/a";
    plan.acq_id = "a 1";
    plan.sample_id = "s1";
    plan.metadata_json = R"({"sample_project": "p", "sample_id": "s1", "acq_id": "a 1",)"
                         R"( "acq_camera_resolution": "4056x3040"})";
    layout = seg::io::output_layout(plan);
    fs::create_directories(layout.objects_dir());
    for (std::uint32_t i = 0; i < 2; ++i) {
      auto crop = seg::io::crop_name(plan, "f.jpg", i);
      std::ofstream(layout.crop_file(crop), std::ios::binary) << "\xFF\xD8\xFF\xE0 crop";
      seg::kernels::object_features f;
      f.width = 10 + int(i);
      f.area = 50;
      seg::io::add_object(objects, plan, seg::io::object_name(plan, "f.jpg", i), f, crop,
                          layout.crop_file(crop));
    }
  }
};

} // namespace

TEST_CASE("the EcoTaxa export writes an archive that imports and the TSV copy", "[io]") {
  export_fixture x;
  REQUIRE(x.objects.rows.size() == 2);
  CHECK(x.objects.rows[1].label == 1);
  auto zip = seg::io::write_ecotaxa_export(x.plan, x.layout, x.objects);
  CHECK(zip == x.layout.zip_file().string());
  CHECK(seg::io::validate_ecotaxa_zip(zip).empty());
  auto entries = seg::io::list_zip_entries(zip);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].name == "s1_a 1_f_0.jpg");
  CHECK(entries[2].name == "ecotaxa_a_1.tsv");
  CHECK(seg::io::read_file(x.layout.tsv_file())
        == seg::io::read_zip_entry(zip, "ecotaxa_a_1.tsv"));
}

TEST_CASE("features are scaled to micrometres when the plan has a pixel size", "[io]") {
  export_fixture x;
  x.plan.params.pixel_size_um = 2;
  seg::io::ecotaxa_objects scaled;
  seg::kernels::object_features f;
  f.area = 50;
  seg::io::add_object(scaled, x.plan, "o", f, "o.jpg", x.layout.crop_file("o.jpg"));
  CHECK(scaled.rows[0].features.area == 200);
}

TEST_CASE("a job without objects gets a header-only archive, export.ecotaxa off none",
          "[io]") {
  export_fixture x;
  auto zip = seg::io::write_ecotaxa_export(x.plan, x.layout, {});
  REQUIRE(zip == x.layout.zip_file().string());
  CHECK(seg::io::validate_ecotaxa_zip(zip).empty());
  auto entries = seg::io::list_zip_entries(zip);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].name == "ecotaxa_a_1.tsv");
  auto tsv = seg::io::read_file(x.layout.tsv_file());
  CHECK(std::count(tsv.begin(), tsv.end(), '\n') == 2); // the names and types rows
  fs::remove(x.layout.zip_file());
  fs::remove(x.layout.tsv_file());
  x.plan.ecotaxa = false;
  CHECK(seg::io::write_ecotaxa_export(x.plan, x.layout, x.objects).empty());
  CHECK_FALSE(fs::exists(x.layout.zip_file()));
  CHECK_FALSE(fs::exists(x.layout.tsv_file()));
}

TEST_CASE("an archive that would not import is not written", "[io]") {
  export_fixture x;
  fs::remove(x.layout.crop_file(x.objects.crops[1].name)); // [image]: a crop is missing
  CHECK_THROWS_WITH(seg::io::write_ecotaxa_export(x.plan, x.layout, x.objects),
                    Catch::Contains("would not import, none written")
                      && Catch::Contains(x.plan.acquisition));
  CHECK_FALSE(fs::exists(x.layout.zip_file()));
  CHECK_FALSE(fs::exists(x.layout.tsv_file()));
}
