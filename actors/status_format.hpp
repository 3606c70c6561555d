#pragma once

// Text for status events, free of CAF: what the status sinks print.

#include <cstdint>
#include <string>

#include "messages/job.hpp"

namespace seg {

/// Name of an event_kind value: "job_started", "flat_ready", "frame_done",
/// "frame_failed", "job_finished"; "unknown" for other values.
const char* event_name(event_kind kind);

/// Name of a job_state value ("pending", ..., "interrupted"); "unknown" for
/// other values.
const char* state_name(job_state state);

/// How an acquisition is shown to a user: the part of `path` after its last
/// "/img/" component (the acquisition's path relative to the data root, as
/// the PlanktoScope lays data out), otherwise `path` itself.
std::string acquisition_label(const std::string& path);

/// What a progress sink accumulates per job, beyond the event itself.
struct progress_counts {
  std::uint32_t frames_before = 0; ///< frames committed when the job started (resumed)
  std::uint64_t objects = 0;       ///< objects counted so far, this run
};

/// The progress line for a frame_done or frame_failed event, without '\r' or
/// '\n': "<label> <done>/<total> frames, <r.r> frames/s, ETA <n>s, objects <k>".
/// The rate counts frames done in this run (ev.frames_done -
/// c.frames_before) over ev.elapsed_s; rate and ETA read "--" until both are
/// positive. The ETA is rounded up to whole seconds; <k> is c.objects.
std::string format_progress_line(const job_event& ev, const progress_counts& c);

/// The line, without '\n', a terminal shows for the events other than
/// frame_done (empty for frame_done and unknown kinds):
/// - job_started:  "<label>: started, <total> frames (<before> already done)"
///                 (the parenthesis only if some are done);
/// - flat_ready:   "<label>: flat ready in <s.s>s" (ev.ms);
/// - frame_failed: "<label>: frame <i+1>/<total> <name> failed: <message>";
/// - job_finished: "<label>: <state>, <done>/<total> frames, <objects> objects
///                 in <s.s>s" (ev.objects, ev.elapsed_s), then ": <message>"
///                 if there is one.
std::string format_event_line(const job_event& ev, const progress_counts& c);

/// One compact JSON object (no '\n') with every field of `ev`: event (its
/// name), job_id, path, state (its name), frame_index, frame_name,
/// frames_done, frames_total, objects, ms, elapsed_s, message, op (the
/// run's operation id, "" before the exporter began it), node (frame
/// events: host:pid of the node that segmented it, else ""). Invalid UTF-8
/// in strings is replaced by U+FFFD.
std::string format_json_line(const job_event& ev);

/// The reference segmenter's status for `ev` (SPEC §5.2) as the JSON line it
/// publishes on status/segmenter, without '\n'; empty if it has none:
/// - job_started:  {"status":"Calculating flat"}
/// - frame_done, frame_failed:
///                 {"status":"Segmenting image <frame_name>, image <i>/<N>"},
///                 i = frame_index + 1, N = frames_total;
/// - job_finished: {"status":"Done"} (done), {"status":"Interrupted"}
///                 (interrupted), {"status":"An exception was raised during
///                 the segmentation: <message>."} (failed or other).
/// The reference sends "Segmenting image" before each frame; events only
/// report frames once they are finished, so it comes after. Unlike the
/// reference, the message is JSON-escaped.
std::string format_reference_status(const job_event& ev);

} // namespace seg
