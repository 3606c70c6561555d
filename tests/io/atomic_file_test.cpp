#include "actors/io/atomic_file.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/io/io_error.hpp"
#include "shm/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using seg::test::temp_dir;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

void touch(const fs::path& p) {
  std::ofstream(p) << "x";
}

} // namespace

TEST_CASE("write_file_atomic creates and replaces a file, leaving no temp file", "[io]") {
  temp_dir d;
  const fs::path target = d.path / "record.jsonl";
  seg::io::write_file_atomic(target, std::string_view("first version\n"));
  CHECK(seg::io::read_file(target) == "first version\n");
  seg::io::write_file_atomic(target, std::string_view("second"));
  CHECK(seg::io::read_file(target) == "second");
  const std::vector<std::uint8_t> bytes{0x00, 0xFF, 0x10};
  seg::io::write_file_atomic(target, bytes);
  const std::string back = seg::io::read_file(target);
  REQUIRE(back.size() == 3);
  CHECK(static_cast<unsigned char>(back[1]) == 0xFF);
  seg::io::write_file_atomic(d.path / "empty", std::string_view());
  CHECK(seg::io::read_file(d.path / "empty").empty());
  CHECK(names_in(d.path) == std::vector<std::string>{"empty", "record.jsonl"});
}

TEST_CASE("write_file_atomic names the path when it fails", "[io]") {
  temp_dir d;
  const fs::path target = d.path / "no-such-dir" / "out.txt";
  try {
    seg::io::write_file_atomic(target, std::string_view("x"));
    FAIL("no exception");
  } catch (const seg::io::io_error& e) {
    const std::string what = e.what();
    CHECK(what.find(target.string()) != std::string::npos);
    CHECK(what.find("No such file or directory") != std::string::npos);
    CHECK(e.file() == target);
  }
  CHECK(names_in(d.path).empty());
}

TEST_CASE("a failed write keeps the old content and removes its temp file", "[io]") {
  temp_dir d;
  const fs::path target = d.path / "big.bin";
  seg::io::write_file_atomic(target, std::string_view("old"));
  // A file-size limit makes write() fail (EFBIG) the way a full disk
  // (ENOSPC) does, without needing a small file system.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGXFSZ, &ignore, &previous);
  rlimit old_limit{};
  ::getrlimit(RLIMIT_FSIZE, &old_limit);
  rlimit small = old_limit;
  small.rlim_cur = 1000;
  ::setrlimit(RLIMIT_FSIZE, &small);
  std::string what;
  try {
    seg::io::write_file_atomic(target, std::string(5000, 'x'));
  } catch (const seg::io::io_error& e) {
    what = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &previous, nullptr);
  CHECK_THAT(what, Catch::Contains(target.string()) && Catch::Contains("File too large"));
  CHECK(seg::io::read_file(target) == "old");
  CHECK(names_in(d.path) == std::vector<std::string>{"big.bin"});
}

TEST_CASE("read_file names the file it cannot read", "[io]") {
  temp_dir d;
  CHECK_THROWS_WITH(seg::io::read_file(d.path / "missing.json"),
                    Catch::Contains((d.path / "missing.json").string())
                      && Catch::Contains("No such file"));
  CHECK_THROWS_WITH(seg::io::read_file(d.path), Catch::Contains("is a directory"));
}

TEST_CASE("temp names are recognised and stale ones removed", "[io]") {
  temp_dir d;
  const fs::path t = seg::io::temp_path_for(d.path / "ecotaxa_a.zip");
  CHECK(t.parent_path() == d.path);
  CHECK(seg::io::is_temp_name(t.filename().string()));
  CHECK(t.filename().string().rfind(".ecotaxa_a.zip.tmp-" + std::to_string(::getpid()) + "-", 0)
        == 0);
  CHECK(seg::io::temp_path_for(d.path / "x") != seg::io::temp_path_for(d.path / "x"));
  CHECK_FALSE(seg::io::is_temp_name("ecotaxa_a.zip"));
  CHECK_FALSE(seg::io::is_temp_name(".hidden"));
  CHECK_FALSE(seg::io::is_temp_name(".a.tmp-12-x"));
  CHECK_FALSE(seg::io::is_temp_name(".a.tmp--3"));
  // libzip's own temporary beside ours (mkstemp's six characters).
  CHECK(seg::io::is_temp_name(".ecotaxa_a.zip.tmp-12-3.AbC123"));
  CHECK_FALSE(seg::io::is_temp_name(".ecotaxa_a.zip.tmp-12-3.AbC12"));

  // 999999999 is above Linux's largest pid_max (4194304): never alive.
  touch(d.path / ".frame.jsonl.tmp-999999999-0");
  touch(d.path / (".mine.jsonl.tmp-" + std::to_string(::getpid()) + "-7"));
  touch(d.path / "frame.jsonl");
  CHECK(seg::io::remove_stale_temp_files(d.path) == 1);
  CHECK(names_in(d.path)
        == std::vector<std::string>{".mine.jsonl.tmp-" + std::to_string(::getpid()) + "-7",
                                    "frame.jsonl"});
  CHECK(seg::io::remove_stale_temp_files(d.path, true) == 1);
  CHECK(names_in(d.path) == std::vector<std::string>{"frame.jsonl"});
  CHECK(seg::io::remove_stale_temp_files(d.path / "absent") == 0);
}

TEST_CASE("a temp whose pid was reused by a later process is stale", "[io]") {
  temp_dir d;
  // A live process that started after the temp file was last written (an
  // hour ago) cannot be its writer: the pid was reused.
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  auto reused = d.path / (".frame.jsonl.tmp-" + std::to_string(child) + "-0");
  auto mine = d.path / (".mine.jsonl.tmp-" + std::to_string(::getpid()) + "-1");
  touch(reused);
  touch(mine);
  auto old = fs::last_write_time(reused) - std::chrono::hours(1);
  fs::last_write_time(reused, old);
  // `mine` was written after this process started: maybe a write in progress.
  CHECK(seg::shm::process_alive(child));
  CHECK(seg::io::remove_stale_temp_files(d.path) == 1);
  CHECK(names_in(d.path) == std::vector<std::string>{mine.filename().string()});
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST_CASE("staged_files: nothing under its name before publish, all after, in order",
          "[io]") {
  temp_dir tmp;
  auto a = tmp.path / "a";
  auto b = tmp.path / "b";
  fs::create_directories(a);
  fs::create_directories(b);
  std::string one = "crop bytes", two = "record";
  {
    seg::io::staged_files batch;
    batch.stage(a, "x.jpg", one.data(), one.size());
    batch.stage(b, "x.jsonl", two.data(), two.size());
    CHECK(batch.size() == 2);
    CHECK_FALSE(fs::exists(a / "x.jpg"));
    CHECK_FALSE(fs::exists(b / "x.jsonl"));
    REQUIRE(names_in(a).size() == 1);
    CHECK(seg::io::is_temp_name(names_in(a)[0]));
    batch.publish();
    CHECK(batch.size() == 0);
  }
  CHECK(names_in(a) == std::vector<std::string>{"x.jpg"});
  CHECK(names_in(b) == std::vector<std::string>{"x.jsonl"});
  CHECK(seg::io::read_file(a / "x.jpg") == one);
  CHECK(seg::io::read_file(b / "x.jsonl") == two);
}

TEST_CASE("staged_files: an unpublished batch leaves nothing, errors name the file",
          "[io]") {
  temp_dir tmp;
  std::string bytes = "x";
  {
    seg::io::staged_files batch;
    batch.stage(tmp.path, "kept.jpg", bytes.data(), bytes.size());
    try {
      batch.stage(tmp.path / "missing", "y.jpg", bytes.data(), bytes.size());
      FAIL("staging into a missing folder must throw");
    } catch (const seg::io::io_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("y.jpg"));
    }
    CHECK_THROWS_AS(batch.stage(tmp.path, "a/b", bytes.data(), bytes.size()),
                    seg::io::io_error);
  } // destroyed unpublished
  CHECK(names_in(tmp.path).empty());
}
