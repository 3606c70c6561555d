// Decode once, the reader's side (CAF-free steps of reader_job): once the
// flat is ready, a frame of the flat's window is handed out with the stack
// slot it was decoded into, and each slot is given back when no item needs
// it any more (committed before, or segmented), the stack once none is left.
#include "actors/reader_job.hpp"

#include <filesystem>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "actors/io/job_plan.hpp"
#include "shm/image_segment.hpp"
#include "tests/actors/synth_frames.hpp"

namespace {

bool shm_exists(const std::string& name) {
  return std::filesystem::exists("/dev/shm/" + name);
}

struct stacked_job {
  seg::test::synth_acquisition acq{6, 4};
  seg::reader_job job;

  stacked_job() {
    seg::job_spec spec;
    spec.id = 41;
    spec.path = acq.dir();
    job.plan = seg::resolve_job(spec, {}).plan;
    REQUIRE(job.plan.frames.size() == 6);
    auto flat = acq.flat();
    job.stack = seg::shm::image_segment::create(seg::shm::segment_name(41, 1, "rj-stack"),
                                                flat.rows, flat.cols, CV_8UC3, 3);
    job.flat = seg::shm::image_segment::create(seg::shm::segment_name(41, 1, "rj-flat"),
                                               flat.rows, flat.cols, CV_8UC3, 1);
    job.current = seg::reader_job::phase::frames;
    // Frames 0, 2 and 4 made the flat, in slots 0..2; frame 0 was committed
    // by an earlier run, so it is not to be handed out.
    job.stacked = {{0, 0}, {2, 1}, {4, 2}};
    for (std::uint32_t i = 1; i < 6; ++i)
      job.frames.push_back(i);
    job.decode_band_rows = 24;
  }
};

} // namespace

TEST_CASE("decode once: the flat's frames go out with their slot, slots freed as done",
          "[actor][reader]") {
  stacked_job fx;
  auto& job = fx.job;
  auto name = job.stack->name();
  std::set<std::uint32_t> held;
  auto holds = [&](std::uint32_t i) { return held.count(i) > 0; };

  // The committed frame's slot goes at once; the others wait for their frame.
  seg::release_stacked(job, holds);
  CHECK(job.stacked == std::map<std::uint32_t, std::uint32_t>{{2, 1}, {4, 2}});

  auto one = seg::next_frame(job);
  REQUIRE(one);
  CHECK(one->index == 1);
  CHECK(one->stack_slot == -1); // not a flat frame: decoded from its bytes
  CHECK_FALSE(one->bytes.empty());
  CHECK(one->band_rows == 24); // pipeline.decode_band_rows, through the reader
  auto two = seg::next_frame(job);
  REQUIRE(two);
  CHECK(two->index == 2);
  CHECK(two->stack_segment == name);
  CHECK(two->stack_slot == 1);
  CHECK_FALSE(two->bytes.empty()); // for a worker that cannot map the stack
  held.insert(2);
  seg::release_stacked(job, holds);
  CHECK(job.stacked.count(2) == 1); // its worker is still on it
  held.erase(2);
  seg::release_stacked(job, holds);
  CHECK(job.stacked.count(2) == 0);
  CHECK(shm_exists(name));

  // Frame 4's item was read ahead: its slot stays until it is handed out
  // and done.
  auto three = seg::next_frame(job);
  REQUIRE(three);
  job.read_ahead.push_back(*seg::next_frame(job));
  CHECK(job.read_ahead.back().stack_slot == 2);
  seg::release_stacked(job, holds);
  CHECK(job.stacked.count(4) == 1);
  job.read_ahead.clear();
  seg::release_stacked(job, holds);
  CHECK(job.stacked.empty());
  CHECK_FALSE(job.stack);
  CHECK_FALSE(shm_exists(name));
}
