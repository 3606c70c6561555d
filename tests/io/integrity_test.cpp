// integrity_frames: the frames a followed acquisition may segment are those
// the imager's integrity.check lists, whole on disk.
#include "actors/io/integrity.hpp"

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.hpp"

namespace {

void write(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

} // namespace

TEST_CASE("integrity.check lists the frames that are whole", "[integrity]") {
  seg::test::temp_dir dir;
  auto d = dir.path;
  CHECK(seg::io::integrity_frames(d).empty()); // no integrity.check yet
  write(d / "b.jpg", "12345");
  write(d / "a.jpg", "123");
  write(d / "c.jpg", "1");        // listed with another size: still being written
  write(d / "d.jpg", "1234");     // on disk, not listed yet
  write(d / "x,y.jpg", "12");     // a comma in the name
  write(d / "integrity.check",
        "# planktoscope integrity file, see https://www.planktoscope.org\n"
        "# filename,size,sha1\n"
        "metadata.json,10,abc\n"
        "b.jpg,5,aa\n"
        "a.jpg,3,bb\n"
        "c.jpg,9,cc\n"
        "x,y.jpg,2,dd\n"
        "missing.jpg,4,ee\n"
        "garbage\n"
        "d.jpg,4"); // the last line has no '\n' yet
  CHECK(seg::io::integrity_frames(d)
        == std::vector<std::string>{"a.jpg", "b.jpg", "x,y.jpg"});
}
