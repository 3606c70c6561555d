#include "actors/io/output_layout.hpp"

#include <fstream>
#include <regex>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/frame_record.hpp"
#include "actors/io/io_error.hpp"
#include "messages/job.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

using seg::io::output_layout;

TEST_CASE("every output path derives from the data root, rel and acq_id", "[io]") {
  const output_layout l{"/data", "20250911/s/a", "acq 1"};
  CHECK(l.data_root() == "/data");
  CHECK(l.acquisition_dir() == "/data/img/20250911/s/a");
  CHECK(l.done_file() == "/data/img/20250911/s/a/done.txt");
  CHECK(l.objects_dir() == "/data/objects/20250911/s/a");
  CHECK(l.crop_file("x_0.jpg") == "/data/objects/20250911/s/a/x_0.jpg");
  CHECK(l.records_dir() == "/data/objects/20250911/s/a/.segflow/frames");
  CHECK(l.record_file("f.1.jpg") == "/data/objects/20250911/s/a/.segflow/frames/f.1.jsonl");
  CHECK(l.errors_dir() == "/data/errors/20250911/s/a");
  CHECK(l.error_file("f.jpg") == "/data/errors/20250911/s/a/f.json");
  CHECK(l.export_dir() == "/data/export/ecotaxa");
  CHECK(l.tsv_name() == "ecotaxa_acq_1.tsv");
  CHECK(l.tsv_file() == "/data/objects/20250911/s/a/ecotaxa_acq_1.tsv");
  CHECK(l.zip_file() == "/data/export/ecotaxa/ecotaxa_acq_1.zip");
}

TEST_CASE("a job's layout is its plan's data root, rel and acq_id", "[io]") {
  seg::job_plan plan;
  plan.data_root = "/r";
  plan.rel = "d/s/a";
  plan.acq_id = "a1";
  const output_layout l{plan};
  CHECK(l.objects_dir() == "/r/objects/d/s/a");
  CHECK(l.zip_file() == "/r/export/ecotaxa/ecotaxa_a1.zip");
}

TEST_CASE("an acq_id that cannot be a file name is refused by the EcoTaxa names", "[io]") {
  const output_layout l{"/data", "d/s/a", "../escape"};
  CHECK(l.objects_dir() == "/data/objects/d/s/a"); // names without acq_id still work
  CHECK_THROWS_AS(l.zip_file(), seg::io::io_error);
  CHECK_THROWS_AS(l.tsv_file(), seg::io::io_error);
}

TEST_CASE("frame stems drop the last extension only", "[io]") {
  using seg::io::frame_stem;
  CHECK(frame_stem("a.jpg") == "a");
  CHECK(frame_stem("a.b.JPEG") == "a.b");
  CHECK(frame_stem("djpg") == "djpg");
  CHECK(frame_stem(".jpg") == ".jpg");
}

TEST_CASE("object names follow export.ids", "[io]") {
  seg::job_plan plan;
  plan.sample_id = "s1";
  plan.acq_id = "a1";
  plan.object_ids = "unique";
  CHECK(seg::io::object_name(plan, "12_3.jpg", 4) == "s1_a1_12_3_4");
  CHECK(seg::io::crop_name(plan, "12_3.jpg", 4) == "s1_a1_12_3_4.jpg");
  plan.object_ids = "per_frame";
  CHECK(seg::io::object_name(plan, "12_3.jpg", 0) == "12_3_0");
}

TEST_CASE("remove_outputs removes this acquisition's outputs and nothing else", "[io]") {
  seg::test::temp_dir d;
  const output_layout mine{d.path, "d/s/a", "a"};
  const output_layout other{d.path, "d/s/b", "b"};
  for (auto* l : {&mine, &other}) {
    fs::create_directories(l->acquisition_dir());
    fs::create_directories(l->records_dir());
    fs::create_directories(l->errors_dir());
    fs::create_directories(l->export_dir());
    std::ofstream(l->acquisition_dir() / "f.jpg") << "x";
    std::ofstream(l->record_file("f.jpg")) << "{}";
    std::ofstream(l->error_file("f.jpg")) << "{}";
    std::ofstream(l->zip_file()) << "z";
    std::ofstream(l->done_file()) << "t";
  }
  seg::io::remove_outputs(mine);
  CHECK_FALSE(fs::exists(mine.objects_dir()));
  CHECK_FALSE(fs::exists(mine.errors_dir()));
  CHECK_FALSE(fs::exists(mine.zip_file()));
  CHECK_FALSE(fs::exists(mine.done_file()));
  CHECK(fs::exists(mine.acquisition_dir() / "f.jpg"));
  CHECK(fs::exists(other.record_file("f.jpg")));
  CHECK(fs::exists(other.error_file("f.jpg")));
  CHECK(fs::exists(other.zip_file()));
  CHECK(fs::exists(other.done_file()));
  seg::io::remove_outputs(mine); // nothing left to remove: no error
}

TEST_CASE("remove_outputs removes the crops records name, never a user's file", "[io]") {
  seg::test::temp_dir d;
  const output_layout l{d.path, "d/s/a", "a"};
  fs::create_directories(l.records_dir());
  seg::io::frame_record rec;
  rec.frame = "f.jpg";
  rec.objects.resize(2);
  rec.objects[0].crop_file = "f_0.jpg";
  rec.objects[1].crop_file = "../../../outside.jpg"; // not a name segflow writes
  seg::io::write_frame_record(l.record_file("f.jpg"), rec);
  std::ofstream(l.crop_file("f_0.jpg")) << "c";
  std::ofstream(l.objects_dir() / "notes.txt") << "the user's";
  std::ofstream(d.path / "outside.jpg") << "o";
  seg::io::remove_outputs(l);
  CHECK_FALSE(fs::exists(l.crop_file("f_0.jpg")));
  CHECK_FALSE(fs::exists(l.records_dir()));
  CHECK(fs::exists(l.objects_dir() / "notes.txt"));
  CHECK(fs::exists(d.path / "outside.jpg"));
}

TEST_CASE("output folders below the data root are never links", "[io]") {
  seg::test::temp_dir d;
  const auto root = d.path / "root";
  const output_layout l{root, "d/s/a", "a"};
  fs::create_directories(d.path / "elsewhere/d/s/a");
  std::ofstream(d.path / "elsewhere/d/s/a/precious") << "p";
  fs::create_directories(root);
  fs::create_directory_symlink(d.path / "elsewhere", root / "objects");
  CHECK_THROWS_WITH(seg::io::make_owned_dirs(root, l.records_dir()),
                    Catch::Contains((root / "objects").string())
                      && Catch::Contains("symbolic link"));
  CHECK_THROWS_WITH(seg::io::remove_outputs(l), Catch::Contains("symbolic link"));
  CHECK_THROWS_WITH(seg::io::prepare_outputs(l), Catch::Contains("symbolic link"));
  CHECK(fs::exists(d.path / "elsewhere/d/s/a/precious"));
  CHECK_FALSE(fs::exists(d.path / "elsewhere/d/s/a/.segflow"));
  // A link deeper down (the sample folder) is refused too.
  fs::remove(root / "objects");
  fs::create_directories(root / "objects/d");
  fs::create_directory_symlink(d.path / "elsewhere/d/s", root / "objects/d/s");
  CHECK_THROWS_WITH(seg::io::make_owned_dirs(root, l.objects_dir()),
                    Catch::Contains((root / "objects/d/s").string()));
  // The data root itself may be a link; a folder outside it is refused.
  fs::remove(root / "objects/d/s");
  fs::create_directory_symlink(root, d.path / "root-link");
  const output_layout via_link{d.path / "root-link", "d/s/a", "a"};
  CHECK_NOTHROW(seg::io::make_owned_dirs(via_link.data_root(), via_link.records_dir()));
  CHECK(fs::is_directory(root / "objects/d/s/a/.segflow/frames"));
  CHECK_THROWS_WITH(seg::io::make_owned_dirs(root, d.path / "elsewhere"),
                    Catch::Contains("not a folder below the data root"));
}

TEST_CASE("a job start sweeps every output folder of dead writers' temporaries", "[io]") {
  seg::test::temp_dir d;
  const output_layout l{d.path, "d/s/a", "a"};
  for (auto& dir : {l.acquisition_dir(), l.records_dir(), l.errors_dir(), l.export_dir()})
    fs::create_directories(dir);
  // 999999999 is above Linux's largest pid_max: never alive.
  const std::vector<fs::path> stale{
    l.export_dir() / ".ecotaxa_a.zip.tmp-999999999-0",
    l.export_dir() / ".ecotaxa_a.zip.tmp-999999999-0.AbC123", // libzip's own
    l.acquisition_dir() / ".done.txt.tmp-999999999-1",
    l.objects_dir() / ".f_0.jpg.tmp-999999999-2",
    l.records_dir() / ".f.jsonl.tmp-999999999-3",
    l.errors_dir() / ".f.json.tmp-999999999-4",
    d.path / "objects" / ".report.html.tmp-999999999-5"}; // the report index's
  for (auto& f : stale)
    std::ofstream(f) << "partial";
  const auto live = l.export_dir() / (".ecotaxa_b.zip.tmp-" + std::to_string(::getpid()) + "-0");
  std::ofstream(live) << "writing";
  seg::io::prepare_outputs(l);
  for (auto& f : stale)
    CHECK_FALSE(fs::exists(f));
  CHECK(fs::exists(live));
}

TEST_CASE("done.txt holds the UTC time without a newline", "[io]") {
  seg::test::temp_dir d;
  const seg::io::output_layout layout{d.path, "d/s/a"};
  const auto acq = d.path / "img/d/s/a";
  fs::create_directories(acq);
  CHECK_FALSE(seg::io::has_done_marker(layout));
  seg::io::write_done_marker(layout);
  CHECK(seg::io::has_done_marker(layout));
  const std::string text = seg::io::read_file(acq / "done.txt");
  CHECK(std::regex_match(text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?)")));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(acq))
    ++entries;
  CHECK(entries == 1);
}
