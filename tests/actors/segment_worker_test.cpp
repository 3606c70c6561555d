// The segment worker on the deterministic scheduler, message by message,
// between a stand-in reader (the test answers its pulls) and a stand-in
// exporter: one step per message, a result equal to the kernels' own, a bad
// frame failing alone, a stop taking effect at the next step boundary (also
// between the bands of a frame corrected while decoding), and an idle answer
// retried when the clock says so.
#include "actors/segment_worker.hpp"

#include <chrono>
#include <memory>

#include <catch2/catch.hpp>

#include <unistd.h>

#include "actors/io/node_facts.hpp"
#include "kernels/decode.hpp"
#include "shm/image_segment.hpp"
#include "tests/actors/fixture.hpp"
#include "tests/actors/synth_frames.hpp"

namespace {

using namespace std::chrono_literals;
using seg::test::inbox;

constexpr std::uint64_t job = 5;

/// A worker between a stand-in reader and exporter, and a flat field in
/// shared memory for the frames of a synthetic acquisition.
struct worker_fixture : seg::test::fixture {
  seg::test::synth_acquisition acq;
  std::shared_ptr<seg::shm::image_segment> flat_segment;
  cv::Mat flat;
  std::shared_ptr<inbox> reader_box = std::make_shared<inbox>();
  std::shared_ptr<inbox> exporter_box = std::make_shared<inbox>();
  seg::reader_actor reader = stand_in<seg::reader_actor>(reader_box);
  seg::exporter_actor exporter = stand_in<seg::exporter_actor>(exporter_box);
  seg::segment_worker_actor worker;

  worker_fixture() {
    flat = acq.flat();
    flat_segment = seg::shm::image_segment::create(
      seg::shm::segment_name(job, 1, "worker-test-flat"), flat.rows, flat.cols, flat.type());
    flat.copyTo(flat_segment->image(0));
    worker = spawn(seg::segment_worker, reader, exporter);
  }

  seg::work_item segment_item(std::uint32_t index) const {
    seg::work_item item;
    item.kind = seg::work_kind::segment;
    item.job_id = job;
    item.generation = 1;
    item.index = index;
    item.name = acq.name(index);
    item.path = acq.acq.frames.at(index).string();
    item.bytes = acq.bytes(index);
    item.flat_segment = flat_segment->name();
    item.params = seg::test::small_frame_params();
    return item;
  }

  /// The objects of `r` are `expected`, feature for feature, byte for byte.
  static void check_objects(const seg::frame_result& r,
                            const std::vector<seg::object_record>& expected) {
    CHECK(r.ok);
    REQUIRE(r.objects.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      INFO("object " << i);
      CHECK(r.objects[i].index == expected[i].index);
      CHECK(r.objects[i].features == expected[i].features);
      CHECK(r.objects[i].crop_jpeg == expected[i].crop_jpeg);
    }
  }

  /// The worker's pull reaches the reader, which answers `item`; the worker
  /// takes it.
  void hand_out(seg::work_item item) {
    expect_from<seg::atom::work>(worker, reader);
    REQUIRE(reader_box->pending.size() == 1);
    answer(reader, *reader_box, std::move(item));
    expect<seg::work_item>(worker);
  }
};

} // namespace

TEST_CASE("worker: one step per message, the kernels' result", "[actor][worker]") {
  worker_fixture fx;
  auto expected = seg::test::segment_directly(fx.acq.bytes(1), fx.flat,
                                              seg::test::small_frame_params());
  REQUIRE(expected.size() >= 2);
  fx.hand_out(fx.segment_item(1));
  // decode, correct, mask, label, features, crops: each its own message, and
  // nothing reaches the exporter before the last.
  for (int step = 0; step < 6; ++step) {
    INFO("step " << step);
    CHECK(fx.exporter_box->messages.empty());
    fx.expect<seg::atom::step>(fx.worker);
  }
  auto [r] = fx.expect_from<seg::frame_result>(fx.worker, fx.exporter);
  CHECK(r.ok);
  CHECK(r.job_id == job);
  CHECK(r.index == 1);
  CHECK(r.name == fx.acq.name(1));
  CHECK(r.kind == seg::work_kind::segment);
  // Its node: this process (host:pid), as ctl nodes names it.
  CHECK(r.node == seg::io::this_node_name());
  CHECK(r.node.find(':' + std::to_string(::getpid())) != std::string::npos);
  fx.check_objects(r, expected);
  // Then it asks for more, and does nothing else meanwhile.
  fx.expect_from<seg::atom::work>(fx.worker, fx.reader);
  CHECK_FALSE(fx.has_message(fx.worker));
}

TEST_CASE("worker: a frame in the flat's stack is segmented from there, bit for bit",
          "[actor][worker]") {
  worker_fixture fx;
  auto expected = seg::test::segment_directly(fx.acq.bytes(2), fx.flat,
                                              seg::test::small_frame_params());
  REQUIRE_FALSE(expected.empty());
  // The stack as the flat leaves it: frame 2 decoded in slot 1.
  auto stack = seg::shm::image_segment::create(seg::shm::segment_name(job, 1, "worker-test-stack"),
                                               fx.flat.rows, fx.flat.cols, CV_8UC3, 2);
  auto bytes = fx.acq.bytes(2);
  cv::Mat slot = stack->image(1);
  seg::kernels::decode_jpeg(bytes.data(), bytes.size(), 100'000'000, slot);
  REQUIRE(slot.data == stack->image(1).data); // decoded in place, as the flat does
  auto check = [&](const seg::frame_result& r) { fx.check_objects(r, expected); };
  SECTION("from the slot: the bytes are not decoded") {
    auto item = fx.segment_item(2);
    item.stack_segment = stack->name();
    item.stack_slot = 1;
    item.bytes = {0x01, 0x02}; // not a JPEG: decoding it would fail the frame
    fx.hand_out(item);
    fx.run();
    auto results = fx.exporter_box->of<seg::frame_result>();
    REQUIRE(results.size() == 1);
    check(results[0]);
  }
  SECTION("from the slot with bands asked for: the slot, not the bytes") {
    auto item = fx.segment_item(2);
    item.stack_segment = stack->name();
    item.stack_slot = 1;
    item.band_rows = 16;
    item.bytes = {0x01, 0x02};
    fx.hand_out(item);
    fx.run();
    auto results = fx.exporter_box->of<seg::frame_result>();
    REQUIRE(results.size() == 1);
    check(results[0]);
  }
  SECTION("a segment that is gone: the bytes are decoded instead") {
    auto item = fx.segment_item(2);
    item.stack_segment = seg::shm::segment_name(job, 9, "gone");
    item.stack_slot = 1;
    fx.hand_out(item);
    fx.run();
    auto results = fx.exporter_box->of<seg::frame_result>();
    REQUIRE(results.size() == 1);
    check(results[0]);
  }
}

TEST_CASE("worker: a bad frame fails alone, naming the file", "[actor][worker]") {
  worker_fixture fx;
  auto item = fx.segment_item(0);
  item.bytes.resize(item.bytes.size() / 3); // truncated JPEG
  fx.hand_out(item);
  fx.expect<seg::atom::step>(fx.worker); // decode fails
  auto [r] = fx.expect_from<seg::frame_result>(fx.worker, fx.exporter);
  CHECK_FALSE(r.ok);
  CHECK(r.objects.empty());
  CHECK_THAT(r.error, Catch::Contains(item.path));
  // The worker goes on with the next frame.
  fx.expect_from<seg::atom::work>(fx.worker, fx.reader);
  fx.answer(fx.reader, *fx.reader_box, fx.segment_item(1));
  fx.run();
  auto results = fx.exporter_box->of<seg::frame_result>();
  REQUIRE(results.size() == 2);
  CHECK(results[1].ok);
  CHECK(results[1].index == 1);
}

TEST_CASE("worker: correct while decoding, a few bands a message, the kernels' result",
          "[actor][worker][bands]") {
  worker_fixture fx;
  auto expected = seg::test::segment_directly(fx.acq.bytes(1), fx.flat,
                                              seg::test::small_frame_params());
  REQUIRE(expected.size() >= 2);
  REQUIRE(fx.flat.rows == 300);
  // The headers, then the band steps (whole bands of at least 64 rows each
  // over 300 rows), then mask, label, features, crops: one message each.
  auto [band_rows, band_steps] = GENERATE(table<int, int>({{16, 5}, {5, 5}, {100, 3}, {1, 5},
                                                           {300, 1}, {1000, 1}}));
  INFO("bands of " << band_rows << " rows");
  auto item = fx.segment_item(1);
  item.band_rows = band_rows;
  fx.hand_out(item);
  for (int step = 0; step < 1 + band_steps + 4; ++step) {
    INFO("step " << step);
    CHECK(fx.exporter_box->messages.empty());
    fx.expect<seg::atom::step>(fx.worker);
  }
  auto [r] = fx.expect_from<seg::frame_result>(fx.worker, fx.exporter);
  CHECK(r.index == 1);
  fx.check_objects(r, expected);
  CHECK(r.timings.decode_ms > 0);
  CHECK(r.timings.correct_ms > 0);
  fx.expect_from<seg::atom::work>(fx.worker, fx.reader);
  CHECK_FALSE(fx.has_message(fx.worker));
}

TEST_CASE("worker: a bad frame fails the same way with bands", "[actor][worker][bands]") {
  worker_fixture fx;
  auto item = fx.segment_item(0);
  item.bytes.resize(item.bytes.size() / 3); // truncated: a band fails, not the headers
  fx.hand_out(item);
  fx.run();
  item.band_rows = 16;
  fx.answer(fx.reader, *fx.reader_box, item);
  fx.run();
  auto results = fx.exporter_box->of<seg::frame_result>();
  REQUIRE(results.size() == 2);
  CHECK_FALSE(results[1].ok);
  CHECK(results[1].objects.empty());
  CHECK_THAT(results[1].error, Catch::Contains(item.path));
  CHECK(results[1].error == results[0].error);
}

TEST_CASE("worker: a stop takes effect at the next step boundary, also between bands",
          "[actor][worker][bands]") {
  worker_fixture fx;
  // Whole frames: decode, correct, then mask. Correct while decoding: the
  // headers, rows 0..64, then rows 64..128.
  auto band_rows = GENERATE(0, 16);
  INFO("bands of " << band_rows << " rows");
  auto item = fx.segment_item(2);
  item.band_rows = band_rows;
  fx.hand_out(item);
  fx.expect<seg::atom::step>(fx.worker);
  fx.expect<seg::atom::step>(fx.worker);

  SECTION("a stop of its job drops the frame: no further step runs") {
    fx.send(fx.worker, seg::atom::stop::value, job);
    // The step already queued runs; the stop is handled after it.
    fx.expect<seg::atom::step>(fx.worker);
    fx.expect<seg::atom::stop, std::uint64_t>(fx.worker);
    // The next step message finds the job stopped: it drops the frame and
    // pulls instead of stepping on.
    fx.expect<seg::atom::step>(fx.worker);
    CHECK(fx.peek(fx.worker).empty());
    fx.expect_from<seg::atom::work>(fx.worker, fx.reader);
    fx.run();
    CHECK(fx.exporter_box->messages.empty());
    // Another frame of the stopped job is dropped before its first step.
    fx.answer(fx.reader, *fx.reader_box, fx.segment_item(3));
    fx.expect<seg::work_item>(fx.worker);
    fx.expect<seg::atom::step>(fx.worker);
    fx.expect_from<seg::atom::work>(fx.worker, fx.reader);
    CHECK(fx.exporter_box->messages.empty());
    // Nothing of the dropped frame is left over: the next job's frame is
    // the kernels' own.
    auto next = fx.segment_item(1);
    next.job_id = job + 1;
    next.band_rows = band_rows;
    fx.answer(fx.reader, *fx.reader_box, next);
    fx.run();
    auto results = fx.exporter_box->of<seg::frame_result>();
    REQUIRE(results.size() == 1);
    CHECK(results[0].job_id == job + 1);
    fx.check_objects(results[0], seg::test::segment_directly(fx.acq.bytes(1), fx.flat,
                                                             seg::test::small_frame_params()));
  }
  SECTION("a stop of another job changes nothing") {
    fx.send(fx.worker, seg::atom::stop::value, job + 1);
    fx.run();
    auto results = fx.exporter_box->of<seg::frame_result>();
    REQUIRE(results.size() == 1);
    CHECK(results[0].ok);
    CHECK(results[0].index == 2);
  }
}

TEST_CASE("worker: an idle answer is retried after retry_ms", "[actor][worker]") {
  worker_fixture fx;
  seg::work_item idle;
  idle.kind = seg::work_kind::idle;
  idle.retry_ms = 50;
  fx.hand_out(idle);
  fx.run();
  CHECK(fx.reader_box->pending.empty());
  fx.advance(49ms);
  CHECK(fx.reader_box->pending.empty());
  fx.advance(1ms);
  CHECK(fx.reader_box->pending.size() == 1);
  CHECK(fx.reader_box->of<seg::atom::work>().size() == 2);
}

TEST_CASE("worker: a shutdown answer ends the worker", "[actor][worker]") {
  worker_fixture fx;
  auto down = fx.watch(fx.worker);
  seg::work_item quit;
  quit.kind = seg::work_kind::shutdown;
  fx.hand_out(quit);
  fx.run();
  REQUIRE(*down);
  CHECK(**down == caf::error{});
  CHECK(fx.reader_box->of<seg::atom::work>().size() == 1);
}
