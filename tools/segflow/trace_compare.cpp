#include "tools/segflow/trace_compare.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "actors/io/trace_file.hpp"
#include "actors/io/trace_payload.hpp"
#include "messages/frame_result.hpp"
#include "messages/job.hpp"
#include "messages/lease.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/tile.hpp"
#include "messages/work_item.hpp"

namespace seg::cli {

using io::trace_error;
using io::trace_reader;
using io::trace_record;
using io::payload_text;

namespace {

using frame_indices = std::vector<std::uint32_t>;

// The actors of the pipeline, as traces name them.
const std::set<std::string> pipeline_roles = {
  "queue",     "reader",        "exporter",  "segment-worker", "lock-manager",
  "status-hub", "progress-sink", "json-sink", "reference-sink", "tile-stitcher"};

} // namespace

std::string role_of(const std::string& label) {
  return label.substr(0, label.find('#'));
}

// A remote sender is a worker process's segment worker or, for the queue, a
// client (`segflow ctl`, a joining worker process); anything else outside
// the pipeline (the command's own actor, a replay's driver, a signal) is an
// external input.
std::string sender_role(const std::string& sender, const std::string& receiver) {
  auto role = role_of(sender);
  if (role == "remote")
    return receiver == "queue" ? "external" : "segment-worker";
  if (role == "lost" || pipeline_roles.count(role) > 0)
    return role;
  return "external";
}

namespace {

// The elements of a message of `trace`, which must be `count` of them;
// throws trace_error naming the record and `what` it should have been.
msgpack::object_handle elements_of(const std::filesystem::path& trace, const trace_record& rec,
                                   std::size_t count, const char* what) {
  auto malformed = trace.string() + ": record " + std::to_string(rec.seq) + ": malformed "
                   + what;
  msgpack::object_handle handle;
  try {
    handle = io::unpack_trace_payload(rec.payload);
  } catch (const std::exception& e) {
    throw trace_error(malformed + " (" + e.what() + ")");
  }
  auto& arr = handle.get();
  if (arr.type != msgpack::type::ARRAY || arr.via.array.size != count)
    throw trace_error(malformed);
  return handle;
}

bool is_internal(const trace_record& r) {
  if (r.sender == r.receiver)
    return true;
  // Self-driven steps and timers, and the wiring of status subscribers
  // (which differs with the output options), are not part of the dataflow.
  // Work requests carry nothing; how many are outstanding at any moment is
  // scheduling, and what they return is in the frame results.
  for (const char* atom : {"atom:step", "atom:prefetch", "atom:renew", "atom:pull",
                           "atom:work"})
    if (r.type == atom)
      return true;
  if (r.type.compare(0, 14, "atom:subscribe") == 0)
    return true;
  // So is a worker process's supervisor joining the reader (replay stands
  // in for worker processes in-process, where there is none to join), with
  // or without the flag whether its node shares serve's memory.
  if (r.type == "atom:join,opaque" || r.type == "atom:join,opaque,opaque")
    return true;
  // A worker busy in a step when the process shuts down may never handle
  // its stop, and only handled messages are recorded.
  if (r.type == "atom:stop,u64" && role_of(r.receiver) == "segment-worker")
    return true;
  return false;
}

// Flat recalculation (planktoscope profile): when frame j - 1 fires the
// heuristic, the reader hands frames j.. out again with a new flat
// generation (atom:reflat, job, generation, j). Which of them the workers
// had already segmented with the old flat depends on timing, so results of
// a superseded generation are left out of the comparison.
struct reflat_note {
  std::uint64_t job = 0;
  std::uint32_t generation = 0;
  std::uint32_t from = 0;
};

std::vector<reflat_note> reflats_of(const std::filesystem::path& trace) {
  trace_reader reader(trace);
  std::vector<reflat_note> out;
  while (auto rec = reader.next()) {
    if (rec->type != "atom:reflat,u64,u32,u32")
      continue;
    auto handle = elements_of(trace, *rec, 4, "reflat");
    auto* x = handle.get().via.array.ptr;
    out.push_back({x[1].as<std::uint64_t>(), x[2].as<std::uint32_t>(),
                   x[3].as<std::uint32_t>()});
  }
  return out;
}

bool superseded(const std::vector<reflat_note>& notes, const msgpack::object& payload) {
  if (notes.empty())
    return false;
  frame_result r;
  codec::reader cr;
  cr.read_root(payload.via.array.ptr[0], r);
  return std::any_of(notes.begin(), notes.end(), [&](const reflat_note& n) {
    return n.job == r.job_id && n.generation > r.generation && n.from <= r.index;
  });
}

struct canonicalizer {
  std::string root;
  bool operation_ids = true; ///< false: the runs' operation ids are removed

  void path(std::string& p) const {
    if (!root.empty() && p.compare(0, root.size(), root) == 0)
      p = "<root>" + p.substr(root.size());
  }

  void fix(job_spec& x) const {
    path(x.path);
  }
  void fix(job_plan& x) const {
    path(x.acquisition);
    path(x.data_root);
    for (auto& w : x.warnings)
      path(w);
  }
  void fix(work_item& x) const {
    path(x.path);
    x.read_ms = 0;
    // Segment names carry the process id.
    x.stack_segment = x.stack_segment.empty() ? "" : "<shm>";
    x.flat_segment = x.flat_segment.empty() ? "" : "<shm>";
    shm(x.pixels_segment);
  }
  void fix(frame_result& x) const {
    x.timings = {};
    path(x.error);
    node(x.node);
    // A tiled frame's counts are the run's; its times are not.
    x.tiles.read_ms = 0;
    x.tiles.segment_ms = 0;
    x.tiles.stitch_ms = 0;
    x.tiles.stitch_wait_ms = 0;
    x.tiles.held_back_ms = 0;
  }
  void fix(tile_frame& x) const {
    shm(x.pixels_segment);
    x.timings = {};
    node(x.node);
    x.held_back_ms = 0;
  }
  void fix(tile_report& x) const {
    path(x.error);
    x.timings = {};
    node(x.node);
  }
  static void shm(std::string& name) {
    if (!name.empty())
      name = "<shm>";
  }
  // Node names carry the process id.
  static void node(std::string& n) {
    if (!n.empty())
      n = "<node>";
  }
  void operation(std::string& id) const {
    if (!operation_ids && !id.empty())
      id = "<op>";
  }

  void fix(job_event& x) const {
    path(x.path);
    path(x.message);
    operation(x.op_id);
    node(x.node);
    x.ms = 0;
    x.elapsed_s = 0;
    // Which frame finishes first with several workers is free.
    if (x.kind != event_kind::job_finished
        || x.state == job_state::interrupted) {
      x.frames_done = 0;
      if (x.kind == event_kind::job_finished)
        x.objects = 0;
    }
  }
  void fix(job_summary& x) const {
    path(x.path);
    path(x.zip);
    path(x.objects_dir);
    path(x.error);
    for (auto& f : x.failures)
      path(f);
    operation(x.op_id);
    x.seconds = 0;
    x.stages = {};
    // Which node segments which frame is free (and names carry pids).
    x.nodes.clear();
    // How far an interrupted job got depends on when the stop arrived.
    if (x.state == job_state::interrupted) {
      x.frames_done = 0;
      x.objects = 0;
      x.frames_failed = 0;
      x.failures.clear();
    }
  }
  void fix(std::vector<job_spec>& xs) const {
    for (auto& x : xs)
      fix(x);
  }
  void fix(std::vector<job_summary>& xs) const {
    for (auto& x : xs)
      fix(x);
  }
  void fix(std::vector<std::string>& xs) const {
    for (auto& x : xs)
      path(x);
  }
  void fix(lease& x) const {
    path(x.key);
    x.token.clear();
    x.pid = 0;
    x.host.clear();
    x.since_unix_ms = 0;
    x.expires_unix_ms = 0;
  }
  void fix(std::string& x) const {
    path(x);
  }
  template <class T>
  void fix(T&) const {
    // nop: plain numbers, index lists
  }

  template <class T>
  std::string canonical(const msgpack::object& o) const {
    T x;
    codec::reader r;
    r.read_root(o, x);
    fix(x);
    return payload_text(codec::pack(x));
  }

  // Element `i` of a record whose types are `types`.
  std::string element(const std::vector<std::string>& types, std::size_t i,
                      const msgpack::object& o) const {
    // The operation id is the str of note:operation,u64,str and of the
    // reader's atom:run,u64,seg::frame_indices,str.
    if (!operation_ids && types[i] == "str"
        && ((i == 2 && types[0] == "note:operation") || (i == 3 && types[0] == "atom:run")))
      return "\"<op>\"";
    return element(types[i], o);
  }

  std::string element(const std::string& type, const msgpack::object& o) const {
    if (type.compare(0, 5, "atom:") == 0 || type.compare(0, 5, "note:") == 0
        || type == "opaque" || type == "u64"
        || type == "u32")
      return payload_text(codec::pack_object(o));
    if (type == "str")
      return canonical<std::string>(o);
    if (type == "seg::frame_indices")
      return canonical<frame_indices>(o);
    if (type == "seg::job_spec")
      return canonical<job_spec>(o);
    if (type == "seg::job_plan")
      return canonical<job_plan>(o);
    if (type == "seg::work_item")
      return canonical<work_item>(o);
    if (type == "seg::frame_result")
      return canonical<frame_result>(o);
    if (type == "seg::tile_frame")
      return canonical<tile_frame>(o);
    if (type == "seg::tile_report")
      return canonical<tile_report>(o);
    if (type == "seg::job_event")
      return canonical<job_event>(o);
    if (type == "seg::job_summary")
      return canonical<job_summary>(o);
    if (type == "seg::job_summaries")
      return canonical<std::vector<job_summary>>(o);
    if (type == "seg::lease")
      return canonical<lease>(o);
    if (type == "seg::job_specs")
      return canonical<std::vector<job_spec>>(o);
    if (type == "seg::keys")
      return canonical<std::vector<std::string>>(o);
    // Queue control replies (listings, records) carry wall-clock times and
    // are compared as recorded.
    return payload_text(codec::pack_object(o));
  }
};

std::vector<std::string> split_types(const std::string& types) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= types.size()) {
    auto comma = types.find(',', start);
    out.push_back(types.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

} // namespace

std::string canonical_message::key() const {
  return receiver_role + " <- " + sender_role + ": " + type + " " + payload;
}

std::string recorded_data_root(const std::filesystem::path& trace) {
  trace_reader reader(trace);
  if (!reader.header().data_root.empty())
    return reader.header().data_root;
  while (auto rec = reader.next()) {
    if (rec->type != "atom:begin,seg::job_plan")
      continue;
    auto handle = elements_of(trace, *rec, 2, "job plan");
    job_plan plan;
    codec::reader r;
    r.read_root(handle.get().via.array.ptr[1], plan);
    return plan.data_root;
  }
  return {};
}

canonical_trace canonical_messages(const std::filesystem::path& trace, bool operation_ids) {
  canonicalizer canon{recorded_data_root(trace), operation_ids};
  trace_reader reader(trace);
  canonical_trace out;
  auto reflats = reflats_of(trace);
  long results = 0;
  // Frame traffic is cut at a stop by the ordinal of the frame's result at
  // the exporter; a frame's events (and the hub's copies of them) take the
  // ordinal of its result, whenever they happen to be handled.
  std::map<std::pair<std::uint64_t, std::uint32_t>, long> ordinal_of; // run, frame
  while (auto rec = reader.next()) {
    if (is_internal(*rec))
      continue;
    auto receiver = role_of(rec->receiver);
    if (receiver == "queue" && role_of(rec->sender) != "status-hub"
        && (rec->type == "atom:stopall" || rec->type == "atom:stop,u64")
        && out.stop_at < 0)
      out.stop_at = results;
    bool frame_traffic = receiver == "exporter" && rec->type == "seg::frame_result";
    canonical_message m;
    m.seq = rec->seq;
    m.receiver_role = receiver;
    m.sender_role = sender_role(rec->sender, receiver);
    m.type = rec->type;
    auto where = trace.string() + ": record " + std::to_string(rec->seq);
    try {
      auto handle = io::unpack_trace_payload(rec->payload);
      auto& arr = handle.get();
      auto types = split_types(rec->type);
      if (arr.type != msgpack::type::ARRAY || arr.via.array.size != types.size())
        throw trace_error(where + ": payload does not match its type list");
      if (frame_traffic && superseded(reflats, arr))
        continue; // not counted: how many there are is timing
      std::string text = "(";
      for (std::size_t i = 0; i < types.size(); ++i)
        text += (i > 0 ? ", " : "") + canon.element(types, i, arr.via.array.ptr[i]);
      m.payload = text + ")";
      codec::reader cr;
      if (frame_traffic) {
        frame_result r;
        cr.read_root(arr.via.array.ptr[0], r);
        m.frame_ordinal = results;
        ordinal_of.emplace(std::make_pair(r.job_id, r.index), results++);
      } else if (rec->type == "seg::job_event") {
        job_event ev;
        cr.read_root(arr.via.array.ptr[0], ev);
        auto kind = event_kind(ev.kind);
        if (kind == event_kind::frame_done || kind == event_kind::frame_failed) {
          auto it = ordinal_of.find({ev.job_id, ev.frame_index});
          m.frame_ordinal = it != ordinal_of.end() ? it->second : results;
        }
      }
    } catch (const trace_error& e) {
      throw trace_error(where + ": " + e.what());
    } catch (const std::exception& e) {
      throw trace_error(where + ": undecodable payload (" + e.what() + ")");
    }
    // The queue announces job starts in queue order, one at a time.
    m.job_start = m.receiver_role == "status-hub" && m.sender_role == "queue"
                  && m.type == "seg::job_event" && m.payload.compare(0, 3, "([0") == 0;
    out.messages.push_back(std::move(m));
  }
  return out;
}

trace_comparison compare_traces(const std::filesystem::path& a,
                                const std::filesystem::path& b, bool operation_ids) {
  auto ta = canonical_messages(a, operation_ids);
  auto tb = canonical_messages(b, operation_ids);
  long cut = -1;
  if (ta.stop_at >= 0 || tb.stop_at >= 0) {
    cut = std::max(ta.stop_at, tb.stop_at);
    if (ta.stop_at >= 0 && tb.stop_at >= 0)
      cut = std::min(ta.stop_at, tb.stop_at);
  }
  auto keep = [cut](const canonical_message& m) {
    return cut < 0 || m.frame_ordinal < 0 || m.frame_ordinal < cut;
  };
  std::vector<canonical_message> ma;
  std::vector<canonical_message> mb;
  std::copy_if(ta.messages.begin(), ta.messages.end(), std::back_inserter(ma), keep);
  std::copy_if(tb.messages.begin(), tb.messages.end(), std::back_inserter(mb), keep);
  // Stops are idempotent: how many copies reach an actor depends on when the
  // job's end crossed them, so they compare as a set. So are drained
  // notices: a frame requeued after a worker loss, or handed out again after
  // a flat recalculation, drains the job again or not, depending on timing.
  auto dedupe_stops = [](std::vector<canonical_message>& ms) {
    std::set<std::string> seen;
    ms.erase(std::remove_if(ms.begin(), ms.end(),
                            [&](const canonical_message& m) {
                              return (m.type.compare(0, 9, "atom:stop") == 0
                                      || m.type == "atom:drained,u64")
                                     && !seen.insert(m.key()).second;
                            }),
             ms.end());
  };
  dedupe_stops(ma);
  dedupe_stops(mb);
  // The hub's echo of a job's end back to the queue races the queue's
  // shutdown after the last job (recorded or not, depending on which comes
  // first); the queue's own job_finished event, compared above, carries the
  // same payload.
  auto drop_end_echoes = [](std::vector<canonical_message>& ms) {
    ms.erase(std::remove_if(ms.begin(), ms.end(),
                            [](const canonical_message& m) {
                              return m.receiver_role == "queue" && m.sender_role == "status-hub"
                                     && m.type == "seg::job_event"
                                     && m.payload.compare(0, 3, "([4") == 0;
                            }),
             ms.end());
  };
  drop_end_echoes(ma);
  drop_end_echoes(mb);
  trace_comparison result;
  result.compared = ma.size();
  std::map<std::string, long> counts;
  for (auto& m : mb)
    ++counts[m.key()];
  std::map<std::string, long> missing_in_b = counts;
  for (auto& m : ma) {
    auto& n = missing_in_b[m.key()];
    if (n == 0) {
      result.equal = false;
      result.divergence = "message " + std::to_string(m.seq) + " of " + a.string()
                          + " has no counterpart in " + b.string() + ": " + m.key();
      return result;
    }
    --n;
  }
  for (auto& m : mb)
    if (missing_in_b[m.key()] > 0) {
      result.equal = false;
      result.divergence = "message " + std::to_string(m.seq) + " of " + b.string()
                          + " has no counterpart in " + a.string() + ": " + m.key();
      return result;
    }
  // Equal multisets can still hide a different job order (a queue edit
  // lost): job starts must come in the same order.
  std::vector<const canonical_message*> sa;
  std::vector<const canonical_message*> sb;
  for (auto& m : ma)
    if (m.job_start)
      sa.push_back(&m);
  for (auto& m : mb)
    if (m.job_start)
      sb.push_back(&m);
  for (std::size_t i = 0; i < sa.size() && i < sb.size(); ++i)
    if (sa[i]->key() != sb[i]->key()) {
      result.equal = false;
      result.divergence = "job start " + std::to_string(i + 1) + " differs: message "
                          + std::to_string(sa[i]->seq) + " of " + a.string() + ": "
                          + sa[i]->key() + ", but message " + std::to_string(sb[i]->seq)
                          + " of " + b.string() + ": " + sb[i]->key();
      return result;
    }
  return result;
}

} // namespace seg::cli
