#pragma once

#include <cstdint>

// Why a request failed. A refused request's reply is a caf::error of the
// "seg" category (actors/error.hpp) carrying one of these codes and a text
// naming what failed; clients decide by the code (ctl's exit code, a status
// string) and show the text. CAF-free: the CAF glue is in actors/.
namespace seg {

enum class ec : std::uint8_t {
  /// Not an error (CAF reserves code 0 for "no error").
  none = 0,
  /// The folder cannot be segmented: missing, not under img/, no frames,
  /// unreadable or invalid metadata.json, or a bad per-job setting.
  not_an_acquisition,
  /// The acquisition is already in the queue (pending or running).
  already_queued,
  /// The request itself is invalid: no path, text that is not UTF-8, a
  /// position below 1.
  bad_request,
  /// No job has this id.
  unknown_job,
  /// The job is not in a state that allows this (e.g. moving a running job).
  bad_state,
  /// serve is shutting down and takes no new work.
  shutting_down,
  /// Another process (or job) holds the acquisition's lease.
  lease_held,
  /// The lease could not be taken or kept for another reason (I/O error,
  /// a folder that is not there, a lease file that keeps changing).
  lock_failed,
  /// The job's output folders could not be prepared (permissions, disk full).
  output_failed,
  /// An export that did not finish holds the job's outputs (an indefinite
  /// lock): `segflow ops recover ID` first.
  export_stuck,
  /// A hello to serve's gatekeeper without the serve's token: no handle.
  not_authorized,
};

/// The code's name, e.g. "unknown_job".
inline const char* to_string(ec code) {
  switch (code) {
    case ec::none: return "none";
    case ec::not_an_acquisition: return "not_an_acquisition";
    case ec::already_queued: return "already_queued";
    case ec::bad_request: return "bad_request";
    case ec::unknown_job: return "unknown_job";
    case ec::bad_state: return "bad_state";
    case ec::shutting_down: return "shutting_down";
    case ec::lease_held: return "lease_held";
    case ec::lock_failed: return "lock_failed";
    case ec::output_failed: return "output_failed";
    case ec::export_stuck: return "export_stuck";
    case ec::not_authorized: return "not_authorized";
  }
  return "unknown_error";
}

} // namespace seg
