#pragma once

// Compares message traces after removing what legitimately differs between
// runs: times, durations, pids, hosts, tokens, shared-memory names and the
// data root's location. No CAF here.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace seg::cli {

/// One message reduced to what must be equal between two runs.
struct canonical_message {
  std::uint64_t seq = 0;       ///< position in its trace
  std::string receiver_role;   ///< actor name without its id
  std::string sender_role;
  std::string type;
  std::string payload;         ///< canonical payload, as text
  /// Frame traffic (frame results, frame events): how many frame
  /// results the exporter had received before it; -1 for other messages.
  long frame_ordinal = -1;
  /// A job_started event of the queue: these compare in order.
  bool job_start = false;
  /// "receiver <- sender: type payload"
  std::string key() const;
};

/// The messages of a trace in recorded order, canonical, without the
/// actors' internal self-messages (step, prefetch, renew, pull), work requests and status
/// subscriptions.
struct canonical_trace {
  std::vector<canonical_message> messages;
  /// Frame results the exporter had received when the first stop reached
  /// the queue; -1 when nothing was stopped.
  long stop_at = -1;
};

/// An actor's role: its trace label ("name#id") without the id.
std::string role_of(const std::string& label);

/// The role of a message's sender as traces are compared: an actor of the
/// pipeline by its name without id, "segment-worker" for a worker process's
/// workers, "lost" for a worker-loss note, else "external" (control
/// commands, signals, a replay's driver). `receiver` is the receiver's role.
std::string sender_role(const std::string& sender, const std::string& receiver);

/// The data root a trace's paths are relative to: the header's, or for a
/// serve trace (which starts before any job) the first job plan's; empty
/// when no job was planned. Throws trace_error on a damaged file.
std::string recorded_data_root(const std::filesystem::path& trace);

/// Reads and canonicalizes a trace; with `operation_ids` false, the runs'
/// operation ids are removed too (two independent runs never share one; a
/// replay takes the recorded ones). Throws trace_error on a damaged file.
canonical_trace canonical_messages(const std::filesystem::path& trace,
                                   bool operation_ids = true);

/// The outcome of comparing two traces.
struct trace_comparison {
  bool equal = true;
  std::size_t compared = 0;    ///< messages in the first trace
  std::string divergence;      ///< the first divergent message, described
};

/// Compares two traces as multisets of canonical messages per receiving
/// role (workers run in parallel, so arrival order between them is free).
/// When a run was stopped, frame traffic is compared only up to the smaller
/// of the two stop points: whether a frame in flight finished before the
/// stop reached its worker depends on timing inside a step, and so do the
/// interrupted job's counters;
/// the first divergence is the first message of `a`, in recorded order,
/// without a counterpart in `b`, or else the first of `b` without one in `a`,
/// or else the first job start out of order (jobs start in queue order).
/// Operation ids are compared unless `operation_ids` is false (see
/// canonical_messages).
trace_comparison compare_traces(const std::filesystem::path& a,
                                const std::filesystem::path& b,
                                bool operation_ids = true);

} // namespace seg::cli
