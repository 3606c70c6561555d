#include "shm/image_segment.hpp"

#include <filesystem>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace seg::shm;

namespace {

bool shm_exists(const std::string& name) {
  return std::filesystem::exists("/dev/shm/" + name);
}

} // namespace

TEST_CASE("a segment is created 0600 and removed by its owner", "[shm]") {
  auto name = segment_name(900001, 1, "flat");
  {
    auto seg = image_segment::create(name, 30, 40, CV_8UC3, 2);
    REQUIRE(shm_exists(name));
    struct stat st;
    REQUIRE(::stat(("/dev/shm/" + name).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(seg->rows() == 30);
    CHECK(seg->cols() == 40);
    CHECK(seg->count() == 2);
  }
  CHECK_FALSE(shm_exists(name));
}

TEST_CASE("readers map the pixels without copying them", "[shm]") {
  auto name = segment_name(900002, 3, "flat");
  auto owner = image_segment::create(name, 3040, 4056, CV_8UC3, 1);
  owner->image(0).setTo(cv::Scalar(1, 2, 3));
  auto reader = image_segment::open(name, false);
  cv::Mat view = reader->image(0);
  auto begin = static_cast<const std::uint8_t*>(reader->mapping_begin());
  CHECK(view.data >= begin);
  CHECK(view.data + view.total() * view.elemSize() <= begin + reader->mapping_size());
  CHECK(view.at<cv::Vec3b>(3039, 4055) == cv::Vec3b(1, 2, 3));
  // A write by the owner is seen through the reader's mapping: same memory.
  owner->image(0).at<cv::Vec3b>(5, 7) = cv::Vec3b(9, 8, 7);
  CHECK(view.at<cv::Vec3b>(5, 7) == cv::Vec3b(9, 8, 7));
  // Dropping a reader does not remove the segment.
  reader.reset();
  CHECK(shm_exists(name));
}

TEST_CASE("opening a missing or foreign segment fails naming it", "[shm]") {
  try {
    image_segment::open("segflow-0-0-0-missing");
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("segflow-0-0-0-missing") != std::string::npos);
  }
}

TEST_CASE("segments of a dead process are swept at start", "[shm]") {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child creates a segment and dies without its destructor running.
    auto seg = image_segment::create(segment_name(900003, 1, "flat"), 8, 8, CV_8UC3);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  auto orphan = "segflow-" + std::to_string(child) + "-900003-1-flat";
  REQUIRE(shm_exists(orphan));
  auto mine = image_segment::create(segment_name(900004, 1, "flat"), 8, 8, CV_8UC3);
  CHECK(sweep_stale_segments() >= 1);
  CHECK_FALSE(shm_exists(orphan));
  CHECK(shm_exists(mine->name())); // a live owner's segment stays
}

TEST_CASE("a discarded image reads as zeros everywhere, its neighbours stay", "[shm]") {
  auto name = segment_name(900004, 1, "stack");
  auto owner = image_segment::create(name, 300, 400, CV_8UC3, 3);
  for (int i = 0; i < 3; ++i)
    owner->image(i).setTo(cv::Scalar(7 + i, 8, 9));
  auto reader = image_segment::open(name, false);
  struct stat before {};
  REQUIRE(::stat(("/dev/shm/" + name).c_str(), &before) == 0);
  owner->discard(1);
  struct stat after {};
  REQUIRE(::stat(("/dev/shm/" + name).c_str(), &after) == 0);
  // Its memory is given back (whole pages inside the image) ...
  CHECK(after.st_blocks < before.st_blocks);
  // ... so the reader sees zeros there, and the other images unchanged.
  cv::Mat middle = reader->image(1);
  std::size_t page = std::size_t(::sysconf(_SC_PAGESIZE));
  std::size_t bytes = middle.total() * middle.elemSize();
  const auto* p = middle.data;
  std::size_t first = (page - std::size_t(reinterpret_cast<std::uintptr_t>(p) % page)) % page;
  std::size_t nonzero = 0;
  for (std::size_t k = first; k + page < bytes; ++k)
    nonzero += p[k] != 0;
  CHECK(nonzero == 0);
  auto filled = [](const cv::Mat& m, std::uint8_t b) {
    for (std::size_t k = 0; k < m.total() * m.elemSize(); k += 3)
      if (m.data[k] != b || m.data[k + 1] != 8 || m.data[k + 2] != 9)
        return false;
    return true;
  };
  CHECK(filled(reader->image(0), 7));
  CHECK(filled(reader->image(2), 9));
}
