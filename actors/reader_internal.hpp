#pragma once

// What the reader's two translation units share: reader.cpp (the behaviour,
// the flat field's messages, the pull hand-out) and reader_supervision.cpp
// (lost workers, the time limit, restarts). Included by those two only.

#include <cstdint>
#include <string>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>

#include "actors/reader.hpp"

namespace seg::detail {

using reader_ptr = reader_actor::stateful_pointer<reader_state>;

// -- reader.cpp ---------------------------------------------------------------

/// The job with run id `id`, or nullptr.
reader_job* find_job(reader_ptr self, std::uint64_t id);

/// Ends the job as failed (its work is dropped, its segments freed) and
/// tells the queue why.
void fail_job(reader_ptr self, reader_job& job, const std::string& why);

/// Every flat slot is decoded or dropped: the median is cut into bands, or
/// the job fails when no frame is good.
void finish_decodes(reader_ptr self, reader_job& job);

/// Hands work to the workers waiting for it.
void serve_waiting(reader_ptr self);

/// Forgets the pull of `who` that is waiting, if any.
void drop_waiting(reader_ptr self, const caf::actor_addr& who);

// -- reader_supervision.cpp ---------------------------------------------------

/// Schedules the next check of held items against pipeline.frame_timeout_s
/// (none when it is 0 or one is scheduled already).
void schedule_tick(reader_ptr self);

/// Worker `who` is gone with the item it held: the item goes back to the
/// front of its job once; lost a second time, a frame fails, a flat frame is
/// replaced and a flat band fails the job.
void worker_lost(reader_ptr self, const caf::actor_addr& who, const caf::error& reason);

/// Abandons the items held longer than pipeline.frame_timeout_s and
/// restarts their workers.
void abandon_overdue(reader_ptr self);

} // namespace seg::detail
