// Reading frames safely: names, symlinks, empty and oversized files.
#include "actors/io/frame_file.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/io/io_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using seg::io::io_error;
using seg::io::read_frame_file;

namespace {

using seg::test::temp_dir;

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string failure(const fs::path& dir, const std::string& name,
                    std::uint64_t max_bytes = 1 << 20) {
  try {
    read_frame_file(dir, name, max_bytes);
  } catch (const io_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("read_frame_file reads a plain frame", "[io][frame_file]") {
  temp_dir t;
  auto acq = t.path / "acq";
  fs::create_directories(acq);
  write(acq / "a.jpg", "\xFF\xD8payload");
  auto bytes = read_frame_file(acq, "a.jpg", 1 << 20);
  CHECK(std::string(bytes.begin(), bytes.end()) == "\xFF\xD8payload");
}

TEST_CASE("read_frame_file refuses names that could leave the folder", "[io][frame_file]") {
  temp_dir t;
  auto acq = t.path / "acq";
  fs::create_directories(acq);
  write(t.path / "outside.jpg", "secret");
  write(acq / ".hidden.jpg", "x");
  CHECK(failure(acq, "../outside.jpg").find("path separator") != std::string::npos);
  CHECK(failure(acq, ".hidden.jpg").find("starts with '.'") != std::string::npos);
  CHECK(failure(acq, "..").find("starts with '.'") != std::string::npos);
  CHECK(failure(acq, "a\\b.jpg").find("path separator") != std::string::npos);
  CHECK(failure(acq, std::string("a\nb.jpg")).find("control character") != std::string::npos);
  CHECK(failure(acq, "").find("empty frame name") != std::string::npos);
  CHECK(failure(acq, std::string(201, 'a')).find("longer than 200") != std::string::npos);
}

TEST_CASE("read_frame_file refuses symlinks out of the acquisition", "[io][frame_file]") {
  temp_dir t;
  auto acq = t.path / "acq";
  fs::create_directories(acq / "sub");
  write(t.path / "outside.jpg", "secret");
  write(acq / "sub" / "inside.jpg", "fine");
  fs::create_symlink(t.path / "outside.jpg", acq / "out.jpg");
  fs::create_symlink("../outside.jpg", acq / "rel-out.jpg");
  fs::create_symlink("sub/inside.jpg", acq / "in.jpg");
  fs::create_symlink("missing.jpg", acq / "dangling.jpg");
  auto why = failure(acq, "out.jpg");
  CHECK(why.find("outside the acquisition") != std::string::npos);
  CHECK(why.find((acq / "out.jpg").string()) != std::string::npos);
  CHECK(failure(acq, "rel-out.jpg").find("outside the acquisition") != std::string::npos);
  auto bytes = read_frame_file(acq, "in.jpg", 1 << 20);
  CHECK(std::string(bytes.begin(), bytes.end()) == "fine");
  CHECK(failure(acq, "dangling.jpg").find("cannot be resolved") != std::string::npos);
}

TEST_CASE("read_frame_file names empty, missing, oversized and odd files", "[io][frame_file]") {
  temp_dir t;
  auto acq = t.path / "acq";
  fs::create_directories(acq / "dir.jpg");
  write(acq / "empty.jpg", "");
  write(acq / "big.jpg", std::string(2000, 'x'));
  CHECK(failure(acq, "empty.jpg").find("empty file (0 bytes)") != std::string::npos);
  CHECK(failure(acq, "empty.jpg").find((acq / "empty.jpg").string()) != std::string::npos);
  CHECK(failure(acq, "missing.jpg").find("does not exist") != std::string::npos);
  CHECK(failure(acq, "big.jpg", 1999).find("2000 bytes") != std::string::npos);
  CHECK(failure(acq, "big.jpg", 2000).empty());
  CHECK(failure(acq, "dir.jpg").find("not a regular file") != std::string::npos);
  if (::geteuid() != 0) { // root reads anything
    write(acq / "locked.jpg", "x");
    fs::permissions(acq / "locked.jpg", fs::perms::none);
    CHECK(failure(acq, "locked.jpg").find("Permission denied") != std::string::npos);
  }
}

TEST_CASE("max_frame_file_bytes bounds a frame of the pixel limit", "[io][frame_file]") {
  CHECK(seg::io::max_frame_file_bytes(100'000'000) == 400'000'000ull + (16u << 20));
  CHECK(seg::io::max_frame_file_bytes(0) == (16u << 20));
}

TEST_CASE("frame_size_problem: the one pixel-limit check, naming the file", "[io][frame_file]") {
  using seg::io::frame_size_problem;
  CHECK(frame_size_problem("a.jpg", cv::Size(4056, 3040), 4056 * 3040).empty());
  CHECK(frame_size_problem("a.jpg", cv::Size(0, 0), 0).empty());
  CHECK(frame_size_problem("/d/a.jpg", cv::Size(20000, 20000), 100'000'000)
        == "/d/a.jpg: 20000x20000 exceeds pipeline.max_frame_pixels (100000000)");
  // 65535 x 65535 does not fit in 32 bits.
  CHECK_FALSE(frame_size_problem("a.jpg", cv::Size(65535, 65535), 4'000'000'000).empty());
  CHECK(seg::io::size_text(640, 480) == "640x480");
}
