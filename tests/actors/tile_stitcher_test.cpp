// The tile stitcher on the deterministic scheduler, message by message: a
// corrected frame in real shared memory, the tile reports a worker makes
// (kernels::segment_tile, fill_report) delivered in shuffled order with a
// repeat, against the untiled kernels' objects of the same frame (every
// feature's bits, every crop byte); a failed tile fails the frame; a stop
// drops the job's open frames. The reader hears of every frame that is over.
#include "actors/tile_stitcher.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/tile_codec.hpp"
#include "kernels/correct.hpp"
#include "kernels/decode.hpp"
#include "kernels/mask.hpp"
#include "kernels/tiles.hpp"
#include "shm/image_segment.hpp"
#include "tests/actors/fixture.hpp"
#include "tests/actors/synth_frames.hpp"

namespace {

using seg::test::inbox;
using stitched_msg = std::tuple<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>;

constexpr std::uint64_t job = 9;
constexpr std::uint32_t generation = 1;

// One synthetic frame corrected into shared memory, cut in 64×64 tiles,
// with the reports of its tiles and its untiled objects.
struct tiled_frame_case {
  seg::test::synth_acquisition acq{3, 14, 11};
  std::uint32_t index = 1;
  seg::segment_params params = seg::test::small_frame_params();
  seg::kernels::tile_layout layout;
  std::shared_ptr<seg::shm::image_segment> pixels;
  int threshold = 0;
  std::vector<seg::tile_report> reports; ///< by tile
  std::vector<seg::object_record> untiled;

  explicit tiled_frame_case(const std::string& tag) {
    auto flat = acq.flat();
    auto bytes = acq.bytes(index);
    cv::Mat frame = seg::kernels::decode_jpeg(bytes.data(), bytes.size(), params.max_frame_pixels);
    cv::Mat corrected, gray;
    seg::kernels::gray_histogram hist{};
    seg::kernels::correct_frame_gray(frame, flat, corrected, gray, hist);
    threshold = seg::kernels::triangle_threshold(hist);
    untiled = seg::test::segment_directly(bytes, flat, params);

    auto kparams = seg::to_kernel_params(params);
    layout = seg::kernels::make_tile_layout(corrected.size(), {64, 64}, kparams);
    pixels = seg::shm::image_segment::create(
      seg::shm::segment_name(job, generation, "stitch-test-" + tag), corrected.rows,
      corrected.cols, CV_8UC3, 1);
    corrected.copyTo(pixels->image());
    for (int t = 0; t < layout.count(); ++t) {
      auto extent = layout.extent(t);
      seg::tile_report r;
      r.job_id = job;
      r.generation = generation;
      r.index = index;
      r.tile = t;
      r.pixels = extent.area();
      r.node = "test";
      seg::fill_report(seg::kernels::segment_tile(layout, t, corrected(extent), gray(extent),
                                                  threshold, kparams),
                       r);
      reports.push_back(std::move(r));
    }
  }

  seg::tile_frame frame() const {
    seg::tile_frame tf;
    tf.job_id = job;
    tf.generation = generation;
    tf.index = index;
    tf.name = acq.name(index);
    tf.grid = seg::to_grid(layout);
    tf.pixels_segment = pixels->name();
    tf.threshold = threshold;
    tf.params = params;
    tf.node = "test";
    return tf;
  }

  /// Regions the tiles report as pieces (reaching a seam), for the
  /// stitcher to merge.
  std::size_t pieces() const {
    std::size_t n = 0;
    for (auto& r : reports)
      n += r.pieces.size();
    return n;
  }
};

struct stitcher_fixture : seg::test::fixture {
  std::shared_ptr<inbox> exporter_box = std::make_shared<inbox>();
  std::shared_ptr<inbox> reader_box = std::make_shared<inbox>();
  seg::exporter_actor exporter = stand_in<seg::exporter_actor>(exporter_box);
  seg::reader_actor reader = stand_in<seg::reader_actor>(reader_box);
  seg::tile_stitcher_actor stitcher = spawn(seg::tile_stitcher, exporter);

  void open(const seg::tile_frame& tf) {
    send(stitcher, seg::atom::open::value, tf, reader);
    expect<seg::atom::open, seg::tile_frame, seg::reader_actor>(stitcher);
  }

  void deliver(const seg::tile_report& r) {
    send(stitcher, r);
    expect<seg::tile_report>(stitcher);
  }

  std::vector<seg::frame_result> results() const {
    return exporter_box->of<seg::frame_result>();
  }

  std::vector<stitched_msg> stitched() const {
    return reader_box->all<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>();
  }
};

} // namespace

TEST_CASE("tile stitcher: tiles in any order, one repeated, give the untiled objects once",
          "[actor][tiles]") {
  tiled_frame_case c("order");
  REQUIRE(c.layout.count() == 35); // 400×300 in 64×64 cores: 7 × 5
  REQUIRE(c.untiled.size() >= 5);
  // Pieces reach seams: the merge is exercised, not only whole objects.
  REQUIRE(c.pieces() >= 8);

  stitcher_fixture fx;
  fx.open(c.frame());
  std::vector<int> order(std::size_t(c.layout.count()));
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = int(i);
  std::mt19937 rng(17);
  std::shuffle(order.begin(), order.end(), rng);
  // A re-run of a tile after a loss: its second report is ignored.
  order.insert(order.begin() + 10, order[3]);
  for (std::size_t i = 0; i < order.size(); ++i) {
    fx.deliver(c.reports[std::size_t(order[i])]);
    if (i + 1 < order.size()) {
      INFO("tile " << order[i] << ", report " << i);
      REQUIRE_FALSE(fx.has_message(fx.exporter));
      REQUIRE_FALSE(fx.has_message(fx.reader));
    }
  }
  auto r = std::get<0>(fx.expect<seg::frame_result>(fx.exporter));
  auto s = fx.expect<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>(fx.reader);
  CHECK(s == stitched_msg{seg::atom::stitched::value, job, generation, c.index});

  CHECK(r.ok);
  CHECK(r.job_id == job);
  CHECK(r.generation == generation);
  CHECK(seg::work_kind(r.kind) == seg::work_kind::segment);
  CHECK(r.index == c.index);
  CHECK(r.name == c.acq.name(c.index));
  CHECK(r.threshold == c.threshold);
  CHECK(r.tiles.tiles == std::uint32_t(c.layout.count()));
  std::int64_t extents = 0;
  for (int t = 0; t < c.layout.count(); ++t)
    extents += c.layout.extent(t).area();
  CHECK(r.tiles.tile_pixels == extents);
  CHECK(r.tiles.frame_pixels == 400 * 300);
  REQUIRE(r.objects.size() == c.untiled.size());
  for (std::size_t i = 0; i < r.objects.size(); ++i) {
    INFO("object " << i);
    CHECK(r.objects[i].index == i);
    CHECK(r.objects[i].features == c.untiled[i].features);
    CHECK(r.objects[i].crop_jpeg == c.untiled[i].crop_jpeg);
  }

  // A late repeat after the frame is stitched: nothing more.
  fx.deliver(c.reports[0]);
  fx.run();
  CHECK(fx.results().size() == 1);
  CHECK(fx.stitched().size() == 1);
}

TEST_CASE("tile stitcher: a failed tile fails its frame, naming it, and frees it",
          "[actor][tiles]") {
  tiled_frame_case c("fail");
  stitcher_fixture fx;
  fx.open(c.frame());
  fx.deliver(c.reports[0]);
  fx.deliver(c.reports[5]);
  auto bad = c.reports[7];
  bad.ok = false;
  bad.error = "worker lost twice while segmenting tile 7 of " + c.acq.acq.frames.at(1).string();
  bad.objects.clear();
  bad.pieces.clear();
  fx.deliver(bad);
  auto r = std::get<0>(fx.expect<seg::frame_result>(fx.exporter));
  CHECK_FALSE(r.ok);
  CHECK(r.index == c.index);
  CHECK(r.name == c.acq.name(c.index));
  CHECK(seg::work_kind(r.kind) == seg::work_kind::segment);
  CHECK(r.error == bad.error);
  CHECK(r.error.find(c.acq.name(c.index)) != std::string::npos);
  CHECK(r.objects.empty());
  auto s = fx.expect<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>(fx.reader);
  CHECK(s == stitched_msg{seg::atom::stitched::value, job, generation, c.index});

  // The other tiles still come: the frame is gone, they change nothing.
  for (int t = 0; t < c.layout.count(); ++t)
    fx.deliver(c.reports[std::size_t(t)]);
  fx.run();
  CHECK(fx.results().size() == 1);
  CHECK(fx.stitched().size() == 1);
}

TEST_CASE("tile stitcher: a frame whose shared memory is gone fails at once",
          "[actor][tiles]") {
  tiled_frame_case c("gone");
  auto tf = c.frame();
  tf.pixels_segment = seg::shm::segment_name(job, generation, "no-such-tiled-frame");
  stitcher_fixture fx;
  fx.open(tf);
  auto r = std::get<0>(fx.expect<seg::frame_result>(fx.exporter));
  CHECK_FALSE(r.ok);
  CHECK(r.error.find(c.acq.name(c.index) + ": stitching its tiles: ") == 0);
  fx.expect<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>(fx.reader);
  fx.deliver(c.reports[0]);
  fx.run();
  CHECK(fx.results().size() == 1);
}

TEST_CASE("tile stitcher: a stop drops the job's open frames and tells the reader",
          "[actor][tiles]") {
  tiled_frame_case c("stop");
  stitcher_fixture fx;
  fx.open(c.frame());
  // Another job's frame (same pixels) stays open through the stop.
  auto other = c.frame();
  other.job_id = job + 1;
  fx.open(other);
  for (int t = 0; t < 6; ++t)
    fx.deliver(c.reports[std::size_t(t)]);
  fx.send(fx.stitcher, seg::atom::stop::value, job);
  fx.expect<seg::atom::stop, std::uint64_t>(fx.stitcher);
  auto s = fx.expect<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>(fx.reader);
  CHECK(s == stitched_msg{seg::atom::stitched::value, job, generation, c.index});
  CHECK_FALSE(fx.has_message(fx.exporter)); // a stopped frame is no result

  // The stopped job's remaining tiles are ignored; the other job completes.
  for (int t = 6; t < c.layout.count(); ++t)
    fx.deliver(c.reports[std::size_t(t)]);
  fx.run();
  CHECK(fx.results().empty());
  for (auto r : c.reports) {
    r.job_id = job + 1;
    fx.deliver(r);
  }
  auto r = std::get<0>(fx.expect<seg::frame_result>(fx.exporter));
  CHECK(r.ok);
  CHECK(r.job_id == job + 1);
  CHECK(r.objects.size() == c.untiled.size());
  s = fx.expect<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>(fx.reader);
  CHECK(s == stitched_msg{seg::atom::stitched::value, job + 1, generation, c.index});
}
