// Every message type round-trips through CAF's binary serializer (what goes
// over the network) and through the msgpack codec (what traces hold).
#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>

#include <limits>
#include <memory>

#include "actors/feature_vector.hpp"
#include "actors/interfaces.hpp"
#include "actors/type_ids.hpp"
#include "messages/msgpack_codec.hpp"
#include "tests/actors/fixture.hpp"
#include "tests/support/sample_nodes.hpp"

using namespace seg;

namespace {

// An actor system per use: CAF 0.17's actor_system must not outlive main.
// Only its type registry is used: the deterministic scheduler starts no
// threads.
struct test_system {
  seg::test::deterministic_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  test_system() {
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

template <class T>
T caf_roundtrip(const T& x) {
  test_system ts;
  std::vector<char> buf;
  caf::binary_serializer sink{*ts.sys, buf};
  auto copy = x;
  REQUIRE(!sink(copy));
  T y;
  caf::binary_deserializer source{*ts.sys, buf};
  REQUIRE(!source(y));
  return y;
}

template <class T>
T msgpack_roundtrip(const T& x) {
  return codec::unpack<T>(codec::pack(x));
}

// Field-by-field equality through the same inspect list, via msgpack bytes.
template <class T>
bool same(const T& a, const T& b) {
  return codec::pack(a) == codec::pack(b);
}

segment_params sample_params() {
  segment_params p;
  p.min_esd_px = 26.666666666666668;
  p.pixel_size_um = 0.75;
  p.crop_margin = 12;
  p.jpeg_quality = 90;
  p.remove_previous_mask = true;
  p.max_frame_pixels = 123456789;
  return p;
}

work_item sample_work() {
  work_item w;
  w.kind = work_kind::segment;
  w.job_id = 7;
  w.generation = 2;
  w.index = 13;
  w.name = "2025-09-11_16-51-00-618912.jpg";
  w.path = "/data/img/a/b/c/2025-09-11_16-51-00-618912.jpg";
  w.bytes = {0xFF, 0xD8, 0x00, 0x01, 0xFF, 0xD9};
  w.stack_segment = "segflow-1-7-2-stack";
  w.flat_segment = "segflow-1-7-2-flat";
  w.stack_count = 9;
  w.row_begin = 10;
  w.row_end = 20;
  w.retry_ms = 5;
  w.params = sample_params();
  w.read_ms = 1.25;
  w.previous = {"2025-09-11_16-50-58-100000.jpg", "2025-09-11_16-50-56-000001.jpg"};
  return w;
}

frame_result sample_result() {
  frame_result r;
  r.job_id = 7;
  r.generation = 2;
  r.kind = work_kind::segment;
  r.index = 13;
  r.name = "frame.jpg";
  r.ok = false;
  r.error = "frame.jpg: not a JPEG image";
  r.threshold = 240;
  object_record o;
  o.index = 3;
  kernels::object_features f;
  f.width = 12;
  f.circ = std::numeric_limits<double>::infinity(); // a one-pixel object
  f.elongation = std::numeric_limits<double>::quiet_NaN();
  f.angle = -0.0;
  f.blur_laplacian = 5e-324;
  f.major = 1.0 / 3.0;
  o.features = to_vector(f);
  o.crop_jpeg = {1, 2, 3};
  r.objects = {o, o};
  r.timings.decode_ms = 44.5;
  r.timings.crops_ms = 0.1;
  r.node = "lab1:4242";
  return r;
}

job_plan sample_plan() {
  job_plan p;
  p.id = 3;
  p.acquisition = "/data/img/d/s/a";
  p.data_root = "/data";
  p.rel = "d/s/a";
  p.frames = {"a.jpg", "b.jpg"};
  p.flat_frames = {0, 1};
  p.metadata_json = R"({"acq_id":"a"})";
  p.sample_project = "proj";
  p.sample_id = "s";
  p.acq_id = "a";
  p.profile = "planktoscope";
  p.object_ids = "per_frame";
  p.process_id = "1";
  p.ecotaxa = false;
  p.force = true;
  p.params = sample_params();
  p.warnings = {"w1"};
  return p;
}

job_summary sample_summary() {
  job_summary s;
  s.id = 4;
  s.path = "/x";
  s.state = job_state::interrupted;
  s.frames_total = 10;
  s.frames_done = 5;
  s.frames_resumed = 2;
  s.frames_failed = 1;
  s.objects = 99;
  s.seconds = 1.5;
  s.error = "e";
  s.failures = {"f: why"};
  s.zip = "/z.zip";
  s.objects_dir = "/o";
  s.op_id = "op-20250911T165100618Z-0123456789ab";
  s.stages.decode_ms = 3;
  s.stages.exporter_wait_ms = 4;
  s.nodes = {{"coord:100", 3}, {"lab1:4242", 2}};
  return s;
}

template <class T>
void check_roundtrips(const T& x) {
  CHECK(same(caf_roundtrip(x), x));
  CHECK(same(msgpack_roundtrip(x), x));
  // A default value differs, so `same` can fail.
  CHECK_FALSE(same(T{}, x));
}

} // namespace

TEST_CASE("messages round-trip through CAF and msgpack", "[actor][messages]") {
  check_roundtrips(sample_params());
  check_roundtrips(sample_work());
  check_roundtrips(sample_result());
  check_roundtrips(sample_result().timings);
  check_roundtrips(sample_result().objects.front());
  job_spec spec;
  spec.id = 9;
  spec.path = "/acq";
  spec.force = true;
  spec.overrides = {"profile=planktoscope"};
  check_roundtrips(spec);
  check_roundtrips(sample_plan());
  job_event ev;
  ev.kind = event_kind::frame_failed;
  ev.job_id = 1;
  ev.path = "/p";
  ev.frame_index = 3;
  ev.frame_name = "f.jpg";
  ev.message = "bad";
  ev.ms = 2.5;
  ev.op_id = "op-20250911T165100618Z-0123456789ab";
  ev.node = "lab1:4242";
  check_roundtrips(ev);
  check_roundtrips(sample_summary().nodes.front());
  check_roundtrips(sample_summary().stages);
  check_roundtrips(sample_summary());
  lease l;
  l.key = "/acq";
  l.token = "t";
  l.pid = 42;
  l.host = "h";
  l.since_unix_ms = 1;
  l.expires_unix_ms = 2;
  check_roundtrips(l);
  job_record rec;
  rec.spec = spec;
  rec.summary = sample_summary();
  rec.started_unix_ms = 1757609460618;
  rec.elapsed_s = 6.25;
  rec.resume = true;
  rec.position = 2;
  check_roundtrips(rec);
  queue_listing all;
  all.paused = true;
  all.jobs = {rec, rec};
  all.jobs.back().spec.id = 10;
  check_roundtrips(all);
  check_roundtrips(std::vector<job_spec>{spec, spec});
  check_roundtrips(std::vector<std::uint64_t>{1, 5, std::uint64_t{1} << 41});
  // The node registry's listing (ctl nodes).
  auto n = test::lost_lab_node();
  n.frames_per_s = 0.25;
  check_roundtrips(n);
  check_roundtrips(node_listing{n, n});
}

TEST_CASE("features keep every bit through CAF", "[actor][messages]") {
  kernels::object_features f;
  f.circ = std::numeric_limits<double>::infinity();
  f.elongation = std::numeric_limits<double>::quiet_NaN();
  f.angle = -0.0;
  f.x = 5e-324;
  f.y = 4056.000000000001;
  object_record o;
  o.features = to_vector(f);
  auto back = from_vector(caf_roundtrip(o).features);
  CHECK(std::isinf(back.circ));
  CHECK(std::isnan(back.elongation));
  CHECK(std::signbit(back.angle));
  CHECK(back.x == 5e-324);
  CHECK(back.y == 4056.000000000001);
  CHECK_THROWS_AS(from_vector({1, 2}), std::invalid_argument);
}

TEST_CASE("msgpack decoding rejects malformed input", "[actor][messages]") {
  auto bytes = codec::pack(sample_plan());
  CHECK_THROWS_AS(codec::unpack<job_plan>(bytes.substr(0, bytes.size() / 2)),
                  codec::decode_error);
  CHECK_THROWS_AS(codec::unpack<job_plan>(codec::pack(sample_params())),
                  codec::decode_error);
  CHECK_THROWS_AS(codec::unpack<lease>(std::string("\xc1", 1)), codec::decode_error);
  CHECK_THROWS_AS(codec::unpack<lease>(std::string()), codec::decode_error);
}

TEST_CASE("kinds and states are typed enums with names, on the wire as one byte",
          "[actor][messages]") {
  CHECK(std::string(to_string(work_kind::flat_band)) == "flat_band");
  CHECK(std::string(to_string(work_kind::shutdown)) == "shutdown");
  CHECK(std::string(to_string(event_kind::frame_failed)) == "frame_failed");
  CHECK(std::string(to_string(job_state::interrupted)) == "interrupted");
  CHECK(std::string(to_string(event_kind(9))) == "unknown");
  // CAF's inspection shows them by name...
  job_event ev;
  ev.kind = event_kind::frame_failed;
  ev.state = job_state::running;
  auto text = caf::deep_to_string(ev);
  CHECK(text.find("frame_failed") != std::string::npos);
  CHECK(text.find("running") != std::string::npos);
  // ...and msgpack packs each as its uint8 value, as when the fields were
  // plain numbers (recorded traces keep decoding).
  work_item w;
  w.kind = work_kind::segment;
  auto packed = codec::pack(w);
  // 16 fields: an array16 header (0xdc, 2 bytes of count), then kind as
  // the positive fixint 3.
  REQUIRE(packed.size() > 3);
  CHECK(std::uint8_t(packed[0]) == 0xdc);
  CHECK(std::uint8_t(packed[3]) == 3);
  CHECK(codec::unpack<work_item>(packed).kind == work_kind::segment);
}
