#include "actors/io/trace_compare.hpp"

#include <map>

#include "actors/io/trace_file.hpp"
#include "messages/frame_result.hpp"
#include "messages/job.hpp"
#include "messages/lease.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/work_item.hpp"

namespace seg::io {

namespace {

using frame_indices = std::vector<std::uint32_t>;

std::string role_of(const std::string& label) {
  return label.substr(0, label.find('#'));
}

bool is_internal(const trace_record& r) {
  if (r.sender == r.receiver)
    return true;
  // Self-driven steps and timers, and the wiring of status subscribers
  // (which differs with the output options), are not part of the dataflow.
  for (const char* atom : {"atom:step", "atom:prefetch", "atom:renew", "atom:pull"})
    if (r.type == atom)
      return true;
  if (r.type.compare(0, 14, "atom:subscribe") == 0)
    return true;
  return false;
}

struct canonicalizer {
  std::string root;

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
  }
  void fix(frame_result& x) const {
    x.timings = {};
    path(x.error);
  }
  void fix(job_event& x) const {
    path(x.path);
    path(x.message);
    x.ms = 0;
    x.elapsed_s = 0;
    // Which frame finishes first with several workers is free.
    if (x.kind != std::uint8_t(event_kind::job_finished))
      x.frames_done = 0;
  }
  void fix(job_summary& x) const {
    path(x.path);
    path(x.zip);
    path(x.objects_dir);
    path(x.error);
    for (auto& f : x.failures)
      path(f);
    x.seconds = 0;
    x.stages = {};
  }
  void fix(std::vector<job_spec>& xs) const {
    for (auto& x : xs)
      fix(x);
  }
  void fix(std::vector<job_summary>& xs) const {
    for (auto& x : xs)
      fix(x);
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

  std::string element(const std::string& type, const msgpack::object& o) const {
    if (type.compare(0, 5, "atom:") == 0 || type == "opaque" || type == "u64"
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

std::vector<canonical_message> canonical_messages(const std::filesystem::path& trace) {
  trace_reader reader(trace);
  canonicalizer canon{reader.header().data_root};
  std::vector<canonical_message> out;
  bool stopped = false;
  while (auto rec = reader.next()) {
    if (is_internal(*rec))
      continue;
    auto receiver = role_of(rec->receiver);
    if (receiver == "queue" && role_of(rec->sender) != "status-hub"
        && (rec->type == "atom:stopall" || rec->type == "atom:stop,u64"))
      stopped = true;
    // After a stop, whether a frame in flight finished its last step before
    // the stop reached its worker depends on timing inside that step, so
    // the frame traffic that follows is not compared.
    if (stopped
        && ((receiver == "exporter" && rec->type == "seg::frame_result")
            || (receiver == "reader" && (rec->type == "atom:work"
                                         || rec->type == "seg::frame_result"))
))
      continue;
    canonical_message m;
    m.seq = rec->seq;
    m.receiver_role = receiver;
    m.sender_role = role_of(rec->sender);
    m.type = rec->type;
    auto where = trace.string() + ": record " + std::to_string(rec->seq);
    try {
      auto handle = msgpack::unpack(rec->payload.data(), rec->payload.size());
      auto& arr = handle.get();
      auto types = split_types(rec->type);
      if (arr.type != msgpack::type::ARRAY || arr.via.array.size != types.size())
        throw trace_error(where + ": payload does not match its type list");
      std::string text = "(";
      for (std::size_t i = 0; i < types.size(); ++i)
        text += (i > 0 ? ", " : "") + canon.element(types[i], arr.via.array.ptr[i]);
      m.payload = text + ")";
    } catch (const trace_error& e) {
      throw trace_error(where + ": " + e.what());
    } catch (const std::exception& e) {
      throw trace_error(where + ": undecodable payload (" + e.what() + ")");
    }
    // Frame events after a stop follow the frames (the job's end stays).
    if (stopped && m.receiver_role == "status-hub" && m.type == "seg::job_event"
        && (m.payload.compare(0, 3, "([2") == 0 || m.payload.compare(0, 3, "([3") == 0))
      continue;
    out.push_back(std::move(m));
  }
  return out;
}

trace_comparison compare_traces(const std::filesystem::path& a,
                                const std::filesystem::path& b) {
  auto ma = canonical_messages(a);
  auto mb = canonical_messages(b);
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
  return result;
}

} // namespace seg::io
