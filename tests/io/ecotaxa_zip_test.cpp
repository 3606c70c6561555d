#include "actors/io/ecotaxa/ecotaxa_zip.hpp"

#include <atomic>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <zip.h>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using seg::test::temp_dir;

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

std::size_t count_entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
    ++n;
  return n;
}

} // namespace

TEST_CASE("EcoTaxa zip: stored entries, crops in order then the TSV", "[io]") {
  temp_dir d;
  // Compressible content: a deflating writer would shrink it.
  const std::string crop_a(5000, 'a');
  const std::string crop_c = "\xff\xd8\xff\xe0 not really a jpeg";
  const fs::path crop_file = d.path / "crop_b.jpg";
  std::ofstream(crop_file, std::ios::binary) << std::string(3000, 'b');
  const std::string tsv = "object_id\timg_file_name\n[t]\t[t]\nz_1\tz_1.jpg\n";

  const fs::path zip_path = d.path / "ecotaxa_dev-small.zip";
  // The later entries sort before the earlier ones: order must be kept.
  seg::io::write_ecotaxa_zip(zip_path,
                             {{"z_1.jpg", bytes_of(crop_a), {}},
                              {"b_0.jpg", {}, crop_file},
                              {"a_9.jpg", bytes_of(crop_c), {}}},
                             "ecotaxa_dev-small.tsv", tsv);

  const auto entries = seg::io::list_zip_entries(zip_path);
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].name == "z_1.jpg");
  CHECK(entries[1].name == "b_0.jpg");
  CHECK(entries[2].name == "a_9.jpg");
  CHECK(entries[3].name == "ecotaxa_dev-small.tsv");
  CHECK(entries[0].size == 5000);
  CHECK(entries[1].size == 3000);
  CHECK(entries[3].size == tsv.size());
  for (const auto& e : entries) {
    CHECK(e.compression == ZIP_CM_STORE);
    CHECK(e.compressed_size == e.size);
  }
  CHECK(seg::io::read_zip_entry(zip_path, "z_1.jpg") == crop_a);
  CHECK(seg::io::read_zip_entry(zip_path, "b_0.jpg") == std::string(3000, 'b'));
  CHECK(seg::io::read_zip_entry(zip_path, "a_9.jpg") == crop_c);
  CHECK(seg::io::read_zip_entry(zip_path, "ecotaxa_dev-small.tsv") == tsv);
  CHECK(count_entries(d.path) == 2); // the crop file and the zip, no temp file

  // Re-export replaces the archive (the reference opens it with mode "w").
  seg::io::write_ecotaxa_zip(zip_path, {{"only.jpg", bytes_of("x"), {}}}, "t.tsv", "a\n");
  const auto again = seg::io::list_zip_entries(zip_path);
  REQUIRE(again.size() == 2);
  CHECK(again[0].name == "only.jpg");
  CHECK(again[1].name == "t.tsv");
  CHECK(count_entries(d.path) == 2);
}

TEST_CASE("EcoTaxa zip failures name the file and leave nothing", "[io]") {
  temp_dir d;
  const fs::path zip_path = d.path / "out.zip";
  CHECK_THROWS_WITH(
    seg::io::write_ecotaxa_zip(zip_path, {{"a.jpg", {}, d.path / "missing.jpg"}}, "t.tsv", ""),
    Catch::Contains("missing.jpg"));
  CHECK_THROWS_WITH(seg::io::write_ecotaxa_zip(zip_path,
                                               {{"a.jpg", bytes_of("1"), {}},
                                                {"a.jpg", bytes_of("2"), {}}},
                                               "t.tsv", ""),
                    Catch::Contains(zip_path.string()) && Catch::Contains("a.jpg"));
  CHECK_THROWS_WITH(
    seg::io::write_ecotaxa_zip(zip_path, {{"sub/a.jpg", bytes_of("1"), {}}}, "t.tsv", ""),
    Catch::Contains("flat"));
  CHECK(count_entries(d.path) == 0);

  std::ofstream(d.path / "not.zip") << "plain text";
  CHECK_THROWS_WITH(seg::io::list_zip_entries(d.path / "not.zip"),
                    Catch::Contains("not.zip") && Catch::Contains("zip"));
}
