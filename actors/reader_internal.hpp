#pragma once

// What the reader's two translation units share: reader.cpp (the behaviour,
// the flat field's messages, the pull hand-out) and reader_supervision.cpp
// (lost workers, the time limit, restarts). Included by those two only.

#include <cstdint>
#include <optional>
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

/// Starts the job's flat, or fails the job; a followed job whose flat frames
/// do not exist yet waits for them (begin_flat_when_ready).
void begin_flat(reader_ptr self, reader_job& job);

/// Tells the queue when the job's last frame is handed out.
void notify_if_drained(reader_ptr self, const reader_job& job);

// -- reader_follow.cpp --------------------------------------------------------

/// Begins the job's flat now if its frames exist (a job that does not follow
/// always); else defers it until they do. Returns true if begun.
bool begin_flat_when_ready(reader_ptr self, reader_job& job);

/// Schedules the next read of followed jobs' integrity.check files.
void schedule_poll(reader_ptr self);

/// Reads every followed job's integrity.check: new frames are handed out; a
/// job idle longer than pipeline.follow_idle_s is sealed.
void poll_followed(reader_ptr self);

/// The job's acquisition is complete: frames on disk that integrity.check
/// did not list are added, the exporter learns the final count, a deferred
/// flat begins. Idempotent.
void seal_job(reader_ptr self, reader_job& job);

// -- reader_tiles.cpp ---------------------------------------------------------

/// The next piece of work of a tiled job (next_tiled_work), or none; a frame
/// whose shared memory cannot be made fails.
std::optional<work_item> next_tiled(reader_ptr self, reader_job& job);

/// A worker read a tiled frame into shared memory (or failed to): the
/// stitcher is told, and the frame's tiles go out.
void tiled_frame_read(reader_ptr self, const frame_result& r);

/// The stitcher is done with tiled frame `index` (stitched, failed or
/// dropped): its shared memory is freed, the next tiled frame may be read.
void tiled_frame_stitched(reader_ptr self, std::uint64_t id, std::uint32_t generation,
                          std::uint32_t index);

/// A tile_read or tile item was lost with its worker, or overran: `retry`
/// hands it out again, else its frame fails with `why`.
void tiled_item_lost(reader_ptr self, reader_job& job, const held_item& h, bool retry,
                     const std::string& why);

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
