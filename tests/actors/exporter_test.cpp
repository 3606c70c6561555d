// The exporter on the deterministic scheduler with real files: each frame
// committed (crops, then its record) as its result is handled, the EcoTaxa
// TSV, zip and done.txt after the last one, a failed frame recorded with its
// error artifact, and a stop that keeps committed frames for a resume.
#include "actors/exporter.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/tile_codec.hpp"
#include "shm/image_segment.hpp"
#include "tests/actors/fixture.hpp"
#include "tests/actors/synth_frames.hpp"

namespace fs = std::filesystem;

namespace {

using seg::test::inbox;

struct exporter_fixture : seg::test::fixture {
  seg::test::synth_acquisition acq{4, 6};
  seg::job_plan plan;
  cv::Mat flat;
  std::shared_ptr<inbox> queue_box = std::make_shared<inbox>();
  std::shared_ptr<inbox> hub_box = std::make_shared<inbox>();
  seg::queue_actor queue = stand_in<seg::queue_actor>(queue_box);
  seg::status_hub_actor hub = stand_in<seg::status_hub_actor>(hub_box);
  seg::exporter_actor exporter;
  std::string op_id; ///< what the last begin replied

  explicit exporter_fixture(seg::exporter_config cfg = {})
    : exporter(spawn(seg::exporter, queue, hub, std::move(cfg))) {
    seg::job_spec spec;
    spec.id = 3;
    spec.path = acq.dir();
    plan = seg::resolve_job(spec, {}).plan;
    REQUIRE(plan.frames.size() == 4);
    flat = acq.flat();
  }

  seg::io::output_layout layout() const {
    return seg::io::output_layout(plan);
  }

  fs::path objects_dir() const {
    return layout().objects_dir();
  }

  fs::path record_of(std::size_t i) const {
    return layout().records_dir() / (acq.acq.frames.at(i).stem().string() + ".jsonl");
  }

  fs::path zip() const {
    return layout().zip_file();
  }

  fs::path done_marker() const {
    return layout().done_file();
  }

  seg::frame_indices begin() {
    auto done = request<seg::frame_indices, std::string>(exporter, seg::atom::begin::value,
                                                         plan);
    REQUIRE(done);
    op_id = std::get<1>(*done);
    return std::get<0>(*done);
  }

  seg::frame_result result_of(std::uint32_t i) const {
    seg::frame_result r;
    r.job_id = plan.id;
    r.generation = 1;
    r.kind = seg::work_kind::segment;
    r.index = i;
    r.name = plan.frames.at(i);
    r.objects = seg::test::segment_directly(acq.bytes(i), flat, plan.params);
    return r;
  }

  /// Sends a result and lets the exporter handle it, that message only.
  void deliver(seg::frame_result r) {
    send(exporter, std::move(r));
    expect<seg::frame_result>(exporter);
  }

  std::vector<seg::job_summary> finished() const {
    std::vector<seg::job_summary> out;
    for (auto& [atom, s] : queue_box->all<seg::atom::finished, seg::job_summary>())
      out.push_back(s);
    return out;
  }

  std::size_t crops_on_disk() const {
    std::size_t n = 0;
    for (auto& e : fs::directory_iterator(objects_dir()))
      n += e.path().extension() == ".jpg";
    return n;
  }
};

} // namespace

TEST_CASE("exporter: frames are committed as they arrive, exported after the last",
          "[actor][exporter]") {
  exporter_fixture fx;
  CHECK(fx.begin().empty());
  std::size_t objects = 0;
  // Out of order on purpose: the default profile commits as results come.
  for (std::uint32_t i : {2u, 0u, 3u, 1u}) {
    INFO("frame " << i);
    CHECK(fx.finished().empty());
    CHECK_FALSE(fs::exists(fx.record_of(i)));
    auto r = fx.result_of(i);
    objects += r.objects.size();
    fx.deliver(r);
    CHECK(fs::exists(fx.record_of(i)));
  }
  REQUIRE(objects > 0);
  fx.run();
  auto done = fx.finished();
  REQUIRE(done.size() == 1);
  CHECK(seg::job_state(done[0].state) == seg::job_state::done);
  CHECK(done[0].frames_done == 4);
  CHECK(done[0].frames_failed == 0);
  CHECK(done[0].objects == objects);
  CHECK(done[0].zip == fx.zip().string());
  CHECK(fx.crops_on_disk() == objects);
  CHECK(fs::exists(fx.zip()));
  CHECK(fs::exists(fx.objects_dir() / ("ecotaxa_" + fx.plan.acq_id + ".tsv")));
  CHECK(fs::exists(fx.done_marker()));
  // One frame_done event per frame, then nothing else of this job.
  std::size_t frame_events = 0;
  for (auto& ev : fx.hub_box->of<seg::job_event>())
    frame_events += seg::event_kind(ev.kind) == seg::event_kind::frame_done;
  CHECK(frame_events == 4);
  // A late duplicate of a settled frame changes nothing.
  fx.send(fx.exporter, fx.result_of(1));
  fx.run();
  CHECK(fx.finished().size() == 1);
}

TEST_CASE("exporter: each frame's event names the node that segmented it, the summary "
          "counts the frames per node",
          "[actor][exporter][nodes]") {
  exporter_fixture fx;
  fx.begin();
  auto r0 = fx.result_of(0);
  r0.node = "lab1:4242";
  auto r1 = fx.result_of(1);
  r1.node = "coord:100";
  r1.ok = false;
  r1.objects.clear();
  r1.error = fx.acq.acq.frames[1].string() + ": not a JPEG image";
  auto r2 = fx.result_of(2);
  r2.node = "lab1:4242";
  auto r3 = fx.result_of(3); // failed by serve itself (its worker lost twice): no node
  r3.ok = false;
  r3.objects.clear();
  r3.error = "worker lost twice";
  for (auto* r : {&r0, &r1, &r2, &r3})
    fx.deliver(*r);
  fx.send(fx.exporter, r0); // a late duplicate counts for no node
  fx.run();
  std::map<std::uint32_t, std::string> node_of;
  for (auto& ev : fx.hub_box->of<seg::job_event>()) {
    auto kind = seg::event_kind(ev.kind);
    if (kind == seg::event_kind::frame_done || kind == seg::event_kind::frame_failed)
      node_of[ev.frame_index] = ev.node;
    else
      CHECK(ev.node.empty());
  }
  CHECK(node_of == std::map<std::uint32_t, std::string>{
                     {0, "lab1:4242"}, {1, "coord:100"}, {2, "lab1:4242"}, {3, ""}});
  auto done = fx.finished();
  REQUIRE(done.size() == 1);
  REQUIRE(done[0].nodes.size() == 2); // by name
  CHECK(done[0].nodes[0].node == "coord:100");
  CHECK(done[0].nodes[0].frames == 1);
  CHECK(done[0].nodes[1].node == "lab1:4242");
  CHECK(done[0].nodes[1].frames == 2);

  // A resumed run counts its own frames only.
  fx.begin();
  auto again = fx.result_of(1);
  again.node = "lab2:7";
  fx.deliver(again);
  fx.deliver(fx.result_of(3));
  fx.run();
  done = fx.finished();
  REQUIRE(done.size() == 2);
  REQUIRE(done[1].nodes.size() == 1);
  CHECK(done[1].nodes[0].node == "lab2:7");
  CHECK(done[1].nodes[0].frames == 1);
}

TEST_CASE("exporter: a failed frame leaves its error artifact, the job ends partial",
          "[actor][exporter]") {
  exporter_fixture fx;
  fx.begin();
  auto bad = fx.result_of(1);
  bad.ok = false;
  bad.objects.clear();
  bad.error = fx.acq.acq.frames[1].string() + ": not a JPEG image";
  fx.deliver(bad);
  auto artifact = fs::path(fx.plan.data_root) / "errors" / fx.plan.rel
                  / (fx.acq.acq.frames[1].stem().string() + ".json");
  REQUIRE(fs::exists(artifact));
  auto text = seg::test::file_bytes(artifact);
  CHECK_THAT(std::string(text.begin(), text.end()), Catch::Contains("not a JPEG image"));
  CHECK_FALSE(fs::exists(fx.record_of(1)));
  for (std::uint32_t i : {0u, 2u, 3u})
    fx.deliver(fx.result_of(i));
  fx.run();
  auto done = fx.finished();
  REQUIRE(done.size() == 1);
  CHECK(done[0].frames_done == 3);
  CHECK(done[0].frames_failed == 1);
  REQUIRE(done[0].failures.size() == 1);
  CHECK_THAT(done[0].failures[0], Catch::Contains(fx.plan.frames[1]));
  CHECK_FALSE(fs::exists(fx.done_marker()));
  // Partial, not done; the good frames' objects are exported all the same.
  CHECK(seg::job_state(done[0].state) == seg::job_state::partial);
  CHECK_THAT(done[0].error, Catch::Contains("1 of 4 frames failed"));
  CHECK(fs::exists(fx.zip()));
  CHECK(done[0].zip == fx.zip().string());

  // A rerun keeps the 3 committed frames; the fixed frame commits and its
  // error artifact goes.
  CHECK(fx.begin() == seg::frame_indices{0, 2, 3});
  fx.deliver(fx.result_of(1));
  fx.run();
  done = fx.finished();
  REQUIRE(done.size() == 2);
  CHECK(seg::job_state(done[1].state) == seg::job_state::done);
  CHECK(done[1].frames_resumed == 3);
  CHECK(done[1].frames_failed == 0);
  CHECK_FALSE(fs::exists(artifact));
  CHECK(fs::exists(fx.done_marker()));
}

TEST_CASE("exporter: a frame whose object names break a rule fails alone",
          "[actor][exporter]") {
  exporter_fixture fx;
  fx.begin();
  for (std::uint32_t i : {0u, 2u, 3u})
    fx.deliver(fx.result_of(i));
  // A frame name whose object ids exceed EcoTaxa's 250 characters, though
  // it was segmented.
  auto odd = fx.result_of(1);
  REQUIRE_FALSE(odd.objects.empty());
  odd.name = std::string(240, 'f') + ".jpg";
  fx.deliver(odd);
  fx.run();
  auto done = fx.finished();
  REQUIRE(done.size() == 1);
  CHECK(seg::job_state(done[0].state) == seg::job_state::partial);
  CHECK(done[0].frames_done == 3);
  REQUIRE(done[0].failures.size() == 1);
  CHECK_THAT(done[0].failures[0], Catch::Contains("[text-length]"));
  for (auto& e : fs::directory_iterator(fx.objects_dir()))
    CHECK(e.path().filename().string().size() < 200);
  auto artifact = fx.layout().error_file(odd.name);
  CHECK(fs::exists(artifact));
}

TEST_CASE("exporter: a stop keeps committed frames, a new begin resumes from them",
          "[actor][exporter]") {
  exporter_fixture fx;
  fx.begin();
  fx.deliver(fx.result_of(0));
  fx.deliver(fx.result_of(2));
  fx.send(fx.exporter, seg::atom::stop::value, fx.plan.id, std::string{});
  fx.expect<seg::atom::stop, std::uint64_t, std::string>(fx.exporter);
  fx.run(); // the queue's stand-in takes the summary
  auto stopped = fx.finished();
  REQUIRE(stopped.size() == 1);
  CHECK(seg::job_state(stopped[0].state) == seg::job_state::interrupted);
  CHECK(stopped[0].frames_done == 2);
  CHECK_FALSE(fs::exists(fx.zip()));
  CHECK_FALSE(fs::exists(fx.done_marker()));
  // Results after the stop are dropped: the job is gone.
  fx.deliver(fx.result_of(1));
  CHECK_FALSE(fs::exists(fx.record_of(1)));
  // A repeated stop is harmless.
  fx.send(fx.exporter, seg::atom::stop::value, fx.plan.id, std::string{});
  fx.run();
  CHECK(fx.finished().size() == 1);

  CHECK(fx.begin() == seg::frame_indices{0, 2});
  fx.deliver(fx.result_of(1));
  fx.deliver(fx.result_of(3));
  fx.run();
  auto all = fx.finished();
  REQUIRE(all.size() == 2);
  CHECK(seg::job_state(all[1].state) == seg::job_state::done);
  CHECK(all[1].frames_resumed == 2);
  CHECK(all[1].frames_done == 4);
  CHECK(fs::exists(fx.done_marker()));
}

namespace {

seg::exporter_config grouped(std::uint32_t frames) {
  seg::exporter_config cfg;
  cfg.commit_frames = frames;
  cfg.commit_window = std::chrono::milliseconds(50);
  return cfg;
}

std::size_t frame_done_events(const exporter_fixture& fx) {
  std::size_t n = 0;
  for (auto& ev : fx.hub_box->of<seg::job_event>())
    n += seg::event_kind(ev.kind) == seg::event_kind::frame_done;
  return n;
}

} // namespace

TEST_CASE("exporter: group commit writes a full group at once, the last frames at once",
          "[actor][exporter]") {
  exporter_fixture fx(grouped(2));
  fx.begin();
  fx.deliver(fx.result_of(0));
  // Settled, not committed: no record, no crop, no event yet.
  CHECK_FALSE(fs::exists(fx.record_of(0)));
  CHECK(fx.crops_on_disk() == 0);
  fx.advance(std::chrono::milliseconds(30));
  CHECK(frame_done_events(fx) == 0);
  fx.deliver(fx.result_of(2)); // the group is full
  CHECK(fs::exists(fx.record_of(0)));
  CHECK(fs::exists(fx.record_of(2)));
  fx.run();
  CHECK(frame_done_events(fx) == 2);
  // The first group's timer (due at 50 ms) is stale: it does not cut the
  // next group's window short.
  fx.deliver(fx.result_of(1));
  fx.advance(std::chrono::milliseconds(30));
  CHECK_FALSE(fs::exists(fx.record_of(1)));
  fx.advance(std::chrono::milliseconds(30));
  CHECK(fs::exists(fx.record_of(1)));
  CHECK(fx.finished().empty());
  // The last frame: everything is settled, committed without waiting.
  fx.deliver(fx.result_of(3));
  CHECK(fs::exists(fx.record_of(3)));
  fx.run();
  auto done = fx.finished();
  REQUIRE(done.size() == 1);
  CHECK(seg::job_state(done[0].state) == seg::job_state::done);
  CHECK(done[0].frames_done == 4);
  CHECK(frame_done_events(fx) == 4);
  CHECK(fs::exists(fx.done_marker()));
  // No temporary file is left behind.
  for (auto dir : {fx.objects_dir(), fx.layout().records_dir()})
    for (auto& e : fs::directory_iterator(dir))
      CHECK_FALSE(seg::io::is_temp_name(e.path().filename().string()));
}

TEST_CASE("exporter: group commit waits at most the window, a stop commits the group",
          "[actor][exporter]") {
  exporter_fixture fx(grouped(8));
  fx.begin();
  fx.deliver(fx.result_of(1));
  fx.advance(std::chrono::milliseconds(40));
  CHECK_FALSE(fs::exists(fx.record_of(1)));
  fx.advance(std::chrono::milliseconds(20)); // 60 ms after the group's first result
  CHECK(fs::exists(fx.record_of(1)));
  CHECK(frame_done_events(fx) == 1);
  // A stop with a group pending: its frames are committed for the resume.
  fx.deliver(fx.result_of(0));
  CHECK_FALSE(fs::exists(fx.record_of(0)));
  fx.send(fx.exporter, seg::atom::stop::value, fx.plan.id, std::string{});
  fx.expect<seg::atom::stop, std::uint64_t, std::string>(fx.exporter);
  CHECK(fs::exists(fx.record_of(0)));
  fx.run();
  auto stopped = fx.finished();
  REQUIRE(stopped.size() == 1);
  CHECK(seg::job_state(stopped[0].state) == seg::job_state::interrupted);
  CHECK(stopped[0].frames_done == 2);
  CHECK(fx.begin() == seg::frame_indices{0, 1});
}

TEST_CASE("exporter: a failed frame completes a job whose group holds the rest",
          "[actor][exporter]") {
  exporter_fixture fx(grouped(8));
  fx.begin();
  for (std::uint32_t i : {0u, 1u, 3u})
    fx.deliver(fx.result_of(i));
  CHECK_FALSE(fs::exists(fx.record_of(0)));
  auto bad = fx.result_of(2);
  bad.ok = false;
  bad.objects.clear();
  bad.error = "not a JPEG image";
  fx.deliver(bad);
  fx.run();
  auto done = fx.finished();
  REQUIRE(done.size() == 1);
  CHECK(seg::job_state(done[0].state) == seg::job_state::partial);
  CHECK(done[0].frames_done == 3);
  for (std::uint32_t i : {0u, 1u, 3u})
    CHECK(fs::exists(fx.record_of(i)));
}

TEST_CASE("exporter: a replay's runs carry their recorded operation ids",
          "[actor][exporter]") {
  // Without a journal there is no operation unless the trace recorded one.
  {
    exporter_fixture plain;
    plain.begin();
    CHECK(plain.op_id.empty());
  }
  seg::exporter_config cfg;
  cfg.recorded_ops[3] = "op-20250911T165100618Z-0123456789ab";
  exporter_fixture fx{cfg};
  fx.begin();
  CHECK(fx.op_id == "op-20250911T165100618Z-0123456789ab");
  for (std::uint32_t i = 0; i < 4; ++i)
    fx.deliver(fx.result_of(i));
  fx.run();
  auto events = fx.hub_box->of<seg::job_event>();
  REQUIRE(events.size() == 4);
  for (auto& ev : events)
    CHECK(ev.op_id == fx.op_id);
  auto done = fx.finished();
  REQUIRE(done.size() == 1);
  CHECK(done[0].op_id == fx.op_id);
}

namespace {

using stitched_msg = std::tuple<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>;

// A tiled frame of the fixture's job in real shared memory, which the tile
// stitcher can open (and would hold open until its tiles are in).
struct open_tiled_frame {
  std::shared_ptr<seg::shm::image_segment> pixels;
  seg::tile_frame tf;

  open_tiled_frame(const exporter_fixture& fx, std::uint32_t index, std::uint32_t generation) {
    pixels = seg::shm::image_segment::create(
      seg::shm::segment_name(fx.plan.id, generation, "exporter-tiled" + std::to_string(index)),
      300, 400, CV_8UC3, 1);
    tf.job_id = fx.plan.id;
    tf.generation = generation;
    tf.index = index;
    tf.name = fx.plan.frames.at(index);
    tf.grid = seg::to_grid(seg::kernels::make_tile_layout(
      {400, 300}, {128, 128}, seg::to_kernel_params(fx.plan.params)));
    tf.pixels_segment = pixels->name();
    tf.params = fx.plan.params;
  }
};

std::vector<stitched_msg> stitched(const inbox& box) {
  return box.all<seg::atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>();
}

} // namespace

TEST_CASE("exporter: a tiled frame opened after its job stopped is not held open, the "
          "reader is told at once",
          "[actor][exporter][tiles]") {
  exporter_fixture fx;
  auto reader_box = std::make_shared<inbox>();
  auto reader = fx.stand_in<seg::reader_actor>(reader_box);
  fx.begin();
  // The reader sent the frame before it saw the stop; the exporter sees the
  // stop first.
  open_tiled_frame f(fx, 1, 1);
  fx.send(fx.exporter, seg::atom::stop::value, fx.plan.id, std::string{});
  fx.run();
  caf::send_as(reader, fx.exporter, seg::atom::open::value, f.tf);
  fx.run();
  auto s = stitched(*reader_box);
  REQUIRE(s.size() == 1);
  CHECK(s[0] == stitched_msg{seg::atom::stitched::value, fx.plan.id, 1, 1});
}

TEST_CASE("exporter: a flat recalculation drops the tiled frames open, and frames read with "
          "the old flat are not opened after it",
          "[actor][exporter][tiles]") {
  exporter_fixture fx;
  auto reader_box = std::make_shared<inbox>();
  auto reader = fx.stand_in<seg::reader_actor>(reader_box);
  fx.begin();
  // In order, with the reader known: as a job with segmentation.flat_recalculate.
  // (An untyped handle: the stand-in takes the reply, which the reader's
  // interface leaves out.)
  caf::send_as(caf::actor_cast<caf::actor>(reader), fx.exporter, seg::atom::recalc::value,
               fx.plan.id);
  fx.run();
  open_tiled_frame early(fx, 2, 1);
  caf::send_as(reader, fx.exporter, seg::atom::open::value, early.tf);
  fx.run();
  CHECK(stitched(*reader_box).empty()); // open at the stitcher, waiting for tiles

  // Frame 1 has 21 objects more than frame 0: the flat is recalculated
  // from frame 2 on (generation 2).
  auto first = fx.result_of(0);
  first.objects = seg::test::segment_directly(fx.acq.bytes(0), fx.flat,
                                              seg::test::small_frame_params());
  REQUIRE_FALSE(first.objects.empty());
  fx.deliver(first);
  auto crowded = fx.result_of(1);
  crowded.objects.clear();
  while (crowded.objects.size() < first.objects.size() + 21) {
    auto o = first.objects.at(crowded.objects.size() % first.objects.size());
    o.index = std::uint32_t(crowded.objects.size());
    crowded.objects.push_back(std::move(o));
  }
  fx.deliver(crowded);
  fx.run();
  auto reflat = reader_box->all<seg::atom::reflat, std::uint64_t, std::uint32_t, std::uint32_t>();
  REQUIRE(reflat.size() == 1);
  CHECK(std::get<2>(reflat[0]) == 2);
  auto s = stitched(*reader_box);
  REQUIRE(s.size() == 1);
  CHECK(s[0] == stitched_msg{seg::atom::stitched::value, fx.plan.id, 1, 2});

  // A frame the reader read with the old flat before it saw the reflat.
  open_tiled_frame late(fx, 3, 1);
  caf::send_as(reader, fx.exporter, seg::atom::open::value, late.tf);
  fx.run();
  s = stitched(*reader_box);
  REQUIRE(s.size() == 2);
  CHECK(s[1] == stitched_msg{seg::atom::stitched::value, fx.plan.id, 1, 3});
  // With the new flat it is opened (and held until its tiles are in).
  open_tiled_frame again(fx, 3, 2);
  caf::send_as(reader, fx.exporter, seg::atom::open::value, again.tf);
  fx.run();
  CHECK(stitched(*reader_box).size() == 2);
}
