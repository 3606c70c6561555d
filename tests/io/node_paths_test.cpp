// Paths mode's checks on a node: which paths a data root covers, one check
// per job, and the comparison of the node's file with serve's bytes.
#include "actors/io/node_paths.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using seg::io::compare_with_file;
using seg::io::node_paths;

namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::vector<std::uint8_t> bytes_of(const std::string& text) {
  return {text.begin(), text.end()};
}

} // namespace

TEST_CASE("node paths: a root covers the paths below it only", "[unit][paths]") {
  node_paths paths({"/data/roots/a/", "/srv/b/../c"});
  CHECK(paths.roots() == std::vector<std::string>{"/data/roots/a", "/srv/c"});
  CHECK(paths.covers("/data/roots/a/img/x.jpg"));
  CHECK(paths.covers("/srv/c/img/x.jpg"));
  CHECK(paths.covers("/data/roots/a/./img/../img/x.jpg"));
  CHECK_FALSE(paths.covers("/data/roots/ab/img/x.jpg")); // a sibling with the same prefix
  CHECK_FALSE(paths.covers("/data/roots/a"));
  CHECK_FALSE(paths.covers("/data/roots/a/../b/x.jpg"));
  CHECK_FALSE(paths.covers("/srv/b/img/x.jpg"));
  CHECK_FALSE(node_paths({}).covers("/data/roots/a/img/x.jpg"));
}

TEST_CASE("node paths: each job is checked once", "[unit][paths]") {
  node_paths paths({"/data"});
  CHECK(paths.claim(1));
  CHECK_FALSE(paths.claim(1));
  CHECK(paths.claim(2));
  paths.count_read();
  paths.count_read();
  CHECK(paths.reads() == 2);
}

TEST_CASE("node paths: the node's file against serve's bytes", "[unit][paths]") {
  seg::test::temp_dir dir;
  auto frame = dir.path / "frame_001.jpg";
  write(frame, "the same bytes");
  auto path = frame.string();
  CHECK(compare_with_file(path, bytes_of("the same bytes"), 1 << 20).empty());
  CHECK(compare_with_file(path, bytes_of("the same byte!"), 1 << 20)
        == path + " differs from serve's copy");
  CHECK(compare_with_file(path, bytes_of("other"), 1 << 20)
        == path + " is 14 bytes here, 5 on serve");
  auto missing = (dir.path / "frame_002.jpg").string();
  auto problem = compare_with_file(missing, bytes_of("x"), 1 << 20);
  CHECK(problem.find(missing) != std::string::npos);
  // A symlink out of the acquisition's folder is refused as read_frame_file refuses it.
  auto outside = dir.path / "outside";
  fs::create_directories(dir.path / "acq");
  write(outside, "x");
  fs::create_symlink(outside, dir.path / "acq" / "frame_003.jpg");
  auto linked = (dir.path / "acq" / "frame_003.jpg").string();
  CHECK_FALSE(compare_with_file(linked, bytes_of("x"), 1 << 20).empty());
}
