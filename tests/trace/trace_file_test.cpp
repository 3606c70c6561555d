// Trace files: round trip, canonical comparison, and hostile input (a trace
// is never trusted).
#include "tools/segflow/trace_compare.hpp"
#include "actors/io/trace_file.hpp"

#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "messages/frame_result.hpp"
#include "messages/job.hpp"
#include "messages/msgpack_codec.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace seg;
using namespace seg::io;
using namespace seg::cli;

namespace {

using seg::test::temp_dir;

trace_header sample_header(const std::string& root) {
  trace_header h;
  h.segflow_version = "test";
  h.host = "h";
  h.profile = "planktoscope";
  h.command = "segment";
  h.inputs = {root + "/img/a"};
  h.data_root = root;
  return h;
}

// Payload of one message whose single element is `x` of trace type `type`.
template <class T>
std::string payload_of(const T& x) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(1);
  codec::writer w(buf, true);
  auto copy = x;
  w.write(copy);
  return std::string(buf.data(), buf.size());
}

frame_result result(std::uint32_t index, double value, double ms) {
  frame_result r;
  r.job_id = 1;
  r.index = index;
  r.name = "f" + std::to_string(index) + ".jpg";
  object_record o;
  o.features = {std::uint64_t(value * 1000)};
  o.crop_jpeg = {1, 2, 3, std::uint8_t(index)};
  r.objects = {o};
  r.timings.decode_ms = ms;
  return r;
}

// Writes a small trace: two frame results (in the given order) and an event.
void write_trace(const fs::path& file, const std::string& root, double value,
                 bool swap, double ms, const std::string& op_id = "",
                 const std::string& node = "coord:100") {
  trace_writer w(file, sample_header(root));
  if (!op_id.empty()) {
    // As trace::note_text records the run's operation id.
    msgpack::sbuffer note;
    msgpack::packer<msgpack::sbuffer> pk(note);
    pk.pack_array(3);
    pk.pack(std::string("operation"));
    pk.pack(std::uint64_t{1});
    pk.pack(op_id);
    w.append("journal", "exporter#3", "note:operation,u64,str",
             std::string(note.data(), note.size()));
  }
  auto a = result(0, value, ms);
  auto b = result(1, 2.0, ms * 2);
  a.node = b.node = node;
  if (swap)
    std::swap(a, b);
  w.append("segment-worker#7", "exporter#3", "seg::frame_result", payload_of(a));
  w.append("segment-worker#8", "exporter#3", "seg::frame_result", payload_of(b));
  w.append("segment-worker#7", "segment-worker#7", "atom:step", payload_of(std::string{}));
  job_event ev;
  ev.kind = event_kind::job_finished;
  ev.path = root + "/img/a";
  ev.elapsed_s = ms;
  ev.op_id = op_id;
  w.append("exporter#3", "status-hub#2", "seg::job_event", payload_of(ev));
}

std::string trace_error_of(const fs::path& file) {
  try {
    trace_reader r(file);
    while (r.next()) {
      // read everything
    }
  } catch (const trace_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("a trace reads back as written", "[trace]") {
  temp_dir dir;
  auto file = dir.path / "t.trace";
  write_trace(file, "/data/x", 1.0, false, 5);
  trace_reader r(file);
  CHECK(r.header().profile == "planktoscope");
  CHECK(r.header().inputs.front() == "/data/x/img/a");
  auto first = r.next();
  REQUIRE(first);
  CHECK(first->seq == 0);
  CHECK(first->sender == "segment-worker#7");
  CHECK(first->receiver == "exporter#3");
  CHECK(first->type == "seg::frame_result");
  int n = 1;
  while (r.next())
    ++n;
  CHECK(n == 4);
}

TEST_CASE("traces compare equal across times, ids, order, location and nodes", "[trace]") {
  temp_dir dir;
  write_trace(dir.path / "a.trace", "/data/x", 1.0, false, 5);
  // Node names carry process ids: another run, another name.
  write_trace(dir.path / "b.trace", "/elsewhere/y", 1.0, true, 77, "", "lab1:4242");
  auto cmp = compare_traces(dir.path / "a.trace", dir.path / "b.trace");
  CHECK(cmp.equal);
  CHECK(cmp.compared == 3); // the self-sent step is internal
}

TEST_CASE("a changed value is the first divergence, named", "[trace]") {
  temp_dir dir;
  write_trace(dir.path / "a.trace", "/data/x", 1.0, false, 5);
  write_trace(dir.path / "b.trace", "/data/x", 1.5, false, 5);
  auto cmp = compare_traces(dir.path / "a.trace", dir.path / "b.trace");
  CHECK_FALSE(cmp.equal);
  CHECK(cmp.divergence.find("message 0") != std::string::npos);
  CHECK(cmp.divergence.find("exporter <- segment-worker: seg::frame_result") != std::string::npos);
}

TEST_CASE("operation ids: a replay must carry the recorded ones, two runs differ",
          "[trace]") {
  temp_dir dir;
  write_trace(dir.path / "a.trace", "/data/x", 1.0, false, 5, "op-20250911T165100618Z-aaa");
  write_trace(dir.path / "b.trace", "/data/x", 1.0, false, 5, "op-20250911T165100618Z-bbb");
  write_trace(dir.path / "c.trace", "/data/y", 1.0, true, 9, "op-20250911T165100618Z-aaa");
  // Replay's comparison: the ids are inputs, a fresh one is a divergence.
  auto strict = compare_traces(dir.path / "a.trace", dir.path / "b.trace");
  CHECK_FALSE(strict.equal);
  CHECK(strict.divergence.find("note:operation") != std::string::npos);
  CHECK(compare_traces(dir.path / "a.trace", dir.path / "c.trace").equal);
  // trace diff's: two recordings are two runs.
  auto loose = compare_traces(dir.path / "a.trace", dir.path / "b.trace", false);
  CHECK(loose.equal);
  CHECK(loose.compared == 4);
}

namespace {

job_event started(std::uint64_t job, const std::string& root) {
  job_event ev;
  ev.kind = event_kind::job_started;
  ev.job_id = job;
  ev.path = root + "/img/j" + std::to_string(job);
  return ev;
}

// A serve trace (no data root in the header: the first job plan's counts):
// a control command from a client, a frame result from a worker process,
// the reader's drained notices, then the job starts in `order`.
void write_serve_trace(const fs::path& file, const std::string& root,
                       const std::vector<std::uint64_t>& order, int drained) {
  auto h = sample_header("");
  h.command = "serve";
  h.inputs = {"workers=0", "worker_processes=1"};
  trace_writer w(file, h);
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(2);
  pk.pack(std::string("begin"));
  job_plan plan;
  plan.id = 1;
  plan.acquisition = root + "/img/j1";
  plan.data_root = root;
  codec::writer cw(buf, true);
  cw.write(plan);
  w.append("queue#1", "exporter#3", "atom:begin,seg::job_plan",
           std::string(buf.data(), buf.size()));
  w.append("remote#9", "queue#1", "seg::job_event", payload_of(started(9, root)));
  w.append("remote#12", "exporter#3", "seg::frame_result", payload_of(result(0, 1.0, 3)));
  msgpack::sbuffer d;
  msgpack::packer<msgpack::sbuffer> dp(d);
  dp.pack_array(2);
  dp.pack(std::string("drained"));
  dp.pack(std::uint64_t(1));
  for (int i = 0; i < drained; ++i)
    w.append("reader#2", "queue#1", "atom:drained,u64", std::string(d.data(), d.size()));
  for (auto job : order)
    w.append("queue#1", "status-hub#4", "seg::job_event", payload_of(started(job, root)));
}

} // namespace

TEST_CASE("serve traces: root from the first plan, roles of remote senders", "[trace]") {
  temp_dir dir;
  write_serve_trace(dir.path / "a.trace", "/srv/x", {1, 3, 2}, 1);
  write_serve_trace(dir.path / "b.trace", "/tmp/y", {1, 3, 2}, 2);
  CHECK(recorded_data_root(dir.path / "a.trace") == "/srv/x");
  auto cmp = compare_traces(dir.path / "a.trace", dir.path / "b.trace");
  CHECK(cmp.equal); // drained notices compare as a set
  auto msgs = canonical_messages(dir.path / "a.trace").messages;
  REQUIRE(msgs.size() == 7);
  CHECK(msgs[1].sender_role == "external");       // a client, to the queue
  CHECK(msgs[2].sender_role == "segment-worker"); // a worker process
  CHECK(msgs[2].payload.find("/srv/x") == std::string::npos);
  CHECK(sender_role("replay-driver#5", "queue") == "external");
  CHECK(sender_role("lost", "reader") == "lost");
}

TEST_CASE("jobs starting in another order diverge, naming the job start", "[trace]") {
  temp_dir dir;
  write_serve_trace(dir.path / "a.trace", "/srv/x", {1, 3, 2}, 1);
  write_serve_trace(dir.path / "b.trace", "/srv/x", {1, 2, 3}, 1);
  auto cmp = compare_traces(dir.path / "a.trace", dir.path / "b.trace");
  CHECK_FALSE(cmp.equal);
  CHECK(cmp.divergence.find("job start 2 differs") != std::string::npos);
}

TEST_CASE("damaged and hostile traces give clear errors", "[trace]") {
  temp_dir dir;
  auto good = dir.path / "good.trace";
  write_trace(good, "/data/x", 1.0, false, 5);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});

  auto write = [&](const std::string& name, const std::string& content) {
    auto p = dir.path / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  };
  SECTION("every truncation") {
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      auto err = trace_error_of(write("cut.trace", bytes.substr(0, cut)));
      INFO("cut at " << cut);
      // A cut exactly at a record boundary is a shorter valid trace.
      if (!err.empty())
        CHECK(err.find("cut.trace") != std::string::npos);
    }
  }
  SECTION("absurd record length") {
    auto evil = bytes.substr(0, 14) + std::string("\xff\xff\xff\x7f", 4) + "x";
    auto err = trace_error_of(write("len.trace", evil));
    CHECK(err.find("out of bounds") != std::string::npos);
  }
  SECTION("length larger than the file") {
    auto evil = bytes.substr(0, 14) + std::string("\x00\x00\x00\x02", 4) + "xyz";
    auto err = trace_error_of(write("short.trace", evil));
    CHECK(err.find("truncated") != std::string::npos);
  }
  SECTION("unknown version") {
    trace_header h = sample_header("/r");
    h.version = 99;
    { trace_writer w(dir.path / "v.trace", h); }
    auto err = trace_error_of(dir.path / "v.trace");
    CHECK(err.find("unknown format version 99") != std::string::npos);
  }
  SECTION("not a trace") {
    auto err = trace_error_of(write("no.trace", "hello world"));
    CHECK(err.find("bad magic") != std::string::npos);
  }
  SECTION("random bytes and bit flips never crash") {
    std::mt19937_64 rng(42);
    int refused = 0;
    for (int i = 0; i < 2000; ++i) {
      auto mutated = bytes;
      int flips = 1 + int(rng() % 8);
      for (int f = 0; f < flips; ++f)
        mutated[rng() % mutated.size()] = char(rng());
      if (i % 4 == 0) {
        mutated.resize(14 + rng() % 64);
        for (std::size_t k = 14; k < mutated.size(); ++k)
          mutated[k] = char(rng());
      }
      auto p = write("fuzz.trace", mutated);
      // Reading either succeeds or fails with a trace_error naming the file;
      // any other exception fails the test.
      auto err = trace_error_of(p);
      if (!err.empty()) {
        ++refused;
        INFO("mutation " << i << ": " << err);
        CHECK(err.find("fuzz.trace") != std::string::npos);
      }
      try {
        canonical_messages(p);
      } catch (const trace_error& e) {
        CHECK(std::string(e.what()).find("fuzz.trace") != std::string::npos);
      }
    }
    // Most mutations are refused (the rest hit payload bytes only).
    CHECK(refused > 1000);
  }
}
