// io::frame_name_problem: the names a frame's outputs get, against the file
// system's and EcoTaxa's limits.
#include "actors/io/frame_names.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "messages/job.hpp"

namespace {

seg::job_plan plan_with_ids(std::string sample_id, std::string acq_id) {
  seg::job_plan plan;
  plan.sample_id = std::move(sample_id);
  plan.acq_id = std::move(acq_id);
  plan.object_ids = "unique";
  return plan;
}

// A frame name of `n` bytes, ".jpg" included.
std::string frame_of(std::size_t n) {
  return std::string(n - 4, 'f') + ".jpg";
}

} // namespace

TEST_CASE("an ordinary frame name passes", "[io][frame_names]") {
  auto plan = plan_with_ids("sample", "acq");
  CHECK_FALSE(seg::io::frame_name_problem(plan, "2024-03-12_03-46-54-902815_0.jpg", 9999));
}

TEST_CASE("object ids over EcoTaxa's 250 characters fail the frame", "[io][frame_names]") {
  auto plan = plan_with_ids("s", "a");
  // "s_a_" + stem + "_0": 4 + 242 + 2 = 248 fits, its crop "…_0.jpg" (252) does not.
  auto why = seg::io::frame_name_problem(plan, frame_of(246), 0);
  REQUIRE(why);
  CHECK_THAT(*why, Catch::Contains(frame_of(246)) && Catch::Contains("[text-length]")
                     && Catch::Contains("img_file_name") && !Catch::Contains("object_id"));
  // The longest name counts: index 10 adds a digit to the id too.
  auto shorter = frame_of(244); // id 4 + 240 + 2 = 246, crop 250: fits at index 0
  CHECK_FALSE(seg::io::frame_name_problem(plan, shorter, 0));
  CHECK(seg::io::frame_name_problem(plan, shorter, 10));
  // Per-frame ids leave the ids out.
  plan.object_ids = "per_frame";
  CHECK_FALSE(seg::io::frame_name_problem(plan, frame_of(246), 0));
}

TEST_CASE("file names over 255 bytes fail the frame, export or not", "[io][frame_names]") {
  auto plan = plan_with_ids(std::string(40, 's'), std::string(40, 'a'));
  plan.ecotaxa = false;
  auto why = seg::io::frame_name_problem(plan, frame_of(200), 0);
  REQUIRE(why);
  CHECK_THAT(*why, Catch::Contains("file systems allow 255")
                     && !Catch::Contains("EcoTaxa"));
  plan.ecotaxa = true;
  why = seg::io::frame_name_problem(plan, frame_of(200), 0);
  REQUIRE(why);
  CHECK_THAT(*why, Catch::Contains("file systems allow 255") && Catch::Contains("[text-length]"));
}
