// serve's token file and the secret-file helpers behind it (0600 from the
// start, created once and atomically, refused when others may read it).

#include "actors/io/serve_token.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "actors/io/io_error.hpp"
#include "actors/io/secret_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using seg::test::temp_dir;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return unsigned(st.st_mode & 07777);
}

std::size_t files_in(const fs::path& dir) {
  return std::size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

} // namespace

TEST_CASE("the first serve start creates a 0600 token of 64 hex digits, later ones reuse it",
          "[io]") {
  temp_dir d;
  auto token = seg::io::load_or_create_token(d.path);
  auto file = d.path / seg::io::token_file_name;
  CHECK(token.size() == 64);
  CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(mode_of(file) == 0600);
  CHECK(files_in(d.path) == 1); // no temporary file left
  CHECK(seg::io::load_or_create_token(d.path) == token);
  CHECK(seg::io::read_token(file) == token);
}

TEST_CASE("tokens are drawn fresh each time", "[io]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i)
    seen.insert(seg::io::new_token());
  CHECK(seen.size() == 100);
}

TEST_CASE("a token file others may read, a symlink or a malformed one is refused, naming it",
          "[io]") {
  temp_dir d;
  auto token = seg::io::load_or_create_token(d.path);
  auto file = d.path / seg::io::token_file_name;
  fs::permissions(file, fs::perms(0644));
  CHECK_THROWS_WITH(seg::io::read_token(file),
                    Catch::Contains(file.string()) && Catch::Contains("chmod 600"));
  CHECK_THROWS_AS(seg::io::load_or_create_token(d.path), seg::io::io_error);
  fs::permissions(file, fs::perms(0600));
  auto link = d.path / "link";
  fs::create_symlink(file, link);
  CHECK_THROWS_WITH(seg::io::read_token(link), Catch::Contains("symbolic link"));
  auto bad = d.path / "bad";
  REQUIRE(seg::io::create_secret_file(bad, "not a token\n"));
  CHECK_THROWS_WITH(seg::io::read_token(bad), Catch::Contains("not a segflow token"));
  CHECK_THROWS_WITH(seg::io::read_token(d.path / "missing"), Catch::Contains("cannot open"));
}

TEST_CASE("create_secret_file never replaces a file that is there", "[io]") {
  temp_dir d;
  auto file = d.path / "key";
  CHECK(seg::io::create_secret_file(file, "first"));
  CHECK_FALSE(seg::io::create_secret_file(file, "second"));
  CHECK(seg::io::read_secret_file(file, 100) == "first");
  CHECK(mode_of(file) == 0600);
  CHECK(files_in(d.path) == 1);
  CHECK_THROWS_WITH(seg::io::read_secret_file(file, 3), Catch::Contains("larger than"));
}

TEST_CASE("token_equal compares whole tokens", "[io]") {
  auto a = seg::io::new_token();
  auto b = a;
  CHECK(seg::io::token_equal(a, b));
  b[0] = b[0] == '0' ? '1' : '0';
  CHECK_FALSE(seg::io::token_equal(a, b));
  b = a;
  b[63] = b[63] == '0' ? '1' : '0';
  CHECK_FALSE(seg::io::token_equal(a, b));
  CHECK_FALSE(seg::io::token_equal(a, a.substr(0, 63)));
  CHECK_FALSE(seg::io::token_equal(a, ""));
  CHECK(seg::io::token_equal("", ""));
}
