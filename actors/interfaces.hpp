#pragma once

// The one-page protocol of segflow's actors: atoms and typed handles only.
// Behaviours live in one .cpp per actor; message structs in messages/.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/node_id.hpp>
#include <caf/typed_actor.hpp>

#include "messages/frame_result.hpp"
#include "messages/job.hpp"
#include "messages/job_record.hpp"
#include "messages/lease.hpp"
#include "messages/node.hpp"
#include "messages/tile.hpp"
#include "messages/work_item.hpp"

namespace seg {

namespace atom {
using add = caf::atom_constant<caf::atom("add")>;
using open = caf::atom_constant<caf::atom("open")>;
using run = caf::atom_constant<caf::atom("run")>;
using work = caf::atom_constant<caf::atom("work")>;
using pull = caf::atom_constant<caf::atom("pull")>;
using step = caf::atom_constant<caf::atom("step")>;
using stop = caf::atom_constant<caf::atom("stop")>;
using stop_all = caf::atom_constant<caf::atom("stopall")>;
using begin = caf::atom_constant<caf::atom("begin")>;
using finished = caf::atom_constant<caf::atom("finished")>;
using failed = caf::atom_constant<caf::atom("failed")>;
using acquire = caf::atom_constant<caf::atom("acquire")>;
using release = caf::atom_constant<caf::atom("release")>;
using renew = caf::atom_constant<caf::atom("renew")>;
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
using list = caf::atom_constant<caf::atom("list")>;
using wait = caf::atom_constant<caf::atom("wait")>;
using prefetch = caf::atom_constant<caf::atom("prefetch")>;
using recalc = caf::atom_constant<caf::atom("recalc")>;
using reflat = caf::atom_constant<caf::atom("reflat")>;
using move = caf::atom_constant<caf::atom("move")>;
using remove = caf::atom_constant<caf::atom("remove")>;
using status = caf::atom_constant<caf::atom("status")>;
using stop_queue = caf::atom_constant<caf::atom("stopqueue")>;
using resume = caf::atom_constant<caf::atom("resume")>;
using drained = caf::atom_constant<caf::atom("drained")>;
using shutdown = caf::atom_constant<caf::atom("shutdown")>;
using join = caf::atom_constant<caf::atom("join")>;
using tick = caf::atom_constant<caf::atom("tick")>;
using abandon = caf::atom_constant<caf::atom("abandon")>;
using received = caf::atom_constant<caf::atom("received")>;
using online = caf::atom_constant<caf::atom("online")>;
using follow = caf::atom_constant<caf::atom("follow")>;
using seal = caf::atom_constant<caf::atom("seal")>;
using poll = caf::atom_constant<caf::atom("poll")>;
using retry = caf::atom_constant<caf::atom("retry")>;
using flush = caf::atom_constant<caf::atom("flush")>;
using hello = caf::atom_constant<caf::atom("hello")>;
using control = caf::atom_constant<caf::atom("control")>;
using fetch = caf::atom_constant<caf::atom("fetch")>;
using paths = caf::atom_constant<caf::atom("paths")>;
using nodes = caf::atom_constant<caf::atom("nodes")>;
using lost = caf::atom_constant<caf::atom("lost")>;
using stitched = caf::atom_constant<caf::atom("stitched")>;
} // namespace atom

/// A frame index list (frames already committed, to be skipped).
using frame_indices = std::vector<std::uint32_t>;

/// Anything that wants status events (terminal progress, JSON lines, ...).
using status_sink_actor = caf::typed_actor<
  // Receives one event; no reply.
  caf::reacts_to<job_event>>;

/// The STATUS HUB fans events out to subscribers.
using status_hub_actor = caf::typed_actor<
  // Publishes an event to every subscriber.
  caf::reacts_to<job_event>,
  // Adds a subscriber; it is dropped when it terminates.
  caf::reacts_to<atom::subscribe, status_sink_actor>>;

/// The LOCK MANAGER grants leases on keys (acquisition and output folders,
/// archive paths), shared by every segflow process through lease files
/// (actors/io/lease_file.hpp). Leases are renewed while held and expire if
/// their holder stops renewing them.
using lock_manager_actor = caf::typed_actor<
  // Acquires the lease on a folder, or fails naming the holder (pid, host,
  // since when).
  caf::replies_to<atom::acquire, std::string>::with<lease>,
  // Acquires several keys sorted and all-or-nothing, retrying a refusal a
  // bounded number of times with backoff; replies one lease per key (in key
  // order) or fails naming the last holder met.
  caf::replies_to<atom::acquire, std::vector<std::string>>::with<std::vector<lease>>,
  // Internal: retries a pending multi-key acquisition.
  caf::reacts_to<atom::retry, std::uint64_t>,
  // Releases a lease; only the matching token releases (value-matched), a
  // stale release is a no-op replying false.
  caf::replies_to<atom::release, lease>::with<bool>,
  // Internal: renews every held lease.
  caf::reacts_to<atom::renew>>;

/// The READER lists frames, resolves a job's plan, has the flat field
/// computed by the workers and hands out work on request (pull).
using reader_actor = caf::typed_actor<
  // Validates a folder and its metadata and resolves the job's plan; fails
  // with an error naming the file and the problem.
  caf::replies_to<atom::open, job_spec>::with<job_plan>,
  // Starts handing out the job's work, skipping committed frames; the
  // string is the run's operation id (for its status events).
  caf::reacts_to<atom::run, std::uint64_t, frame_indices, std::string>,
  // A worker asks for work; the reply may be idle (ask again later).
  caf::replies_to<atom::work>::with<work_item>,
  // A worker reports a flat-field step (decode or band).
  caf::reacts_to<frame_result>,
  // Stops handing out the job's work and tells the workers the queue does
  // not know of (worker processes, replacements) to drop it; idempotent,
  // unknown jobs are ignored.
  caf::reacts_to<atom::stop, std::uint64_t>,
  // A worker process's supervisor (`segflow worker`) introduces itself: it
  // gets (atom::abandon, reason) when one of its workers overran
  // pipeline.frame_timeout_s, and then restarts the process. The flag says
  // whether its node shares this host's shared memory; the workers of a
  // node that does not are handed only frames (the flat steps write into
  // serve's segments), and copy the flat from the flat source.
  caf::reacts_to<atom::join, caf::actor, bool>,
  // A worker of a node that sees the data root (paths mode,
  // io/node_paths.hpp): job, the frame it read there itself, and "" when
  // the file equals the bytes it was sent (that job's further frames go to
  // the node's workers as paths, without bytes) or the difference (they
  // keep travelling as bytes).
  caf::reacts_to<atom::paths, std::uint64_t, std::string, std::string>,
  // From the exporter (flat recalculation, SPEC-planktoscope §2.1): job,
  // flat generation, frame j. Computes the flat of j's recalculation window
  // as generation `generation` and hands out every uncommitted frame from j
  // on again with it; a generation not newer than the job's is ignored.
  caf::reacts_to<atom::reflat, std::uint64_t, std::uint32_t, std::uint32_t>,
  // A followed job's acquisition is complete (the imager said Done): its
  // last frames are added and it ends once they are done; idempotent,
  // unknown jobs are ignored.
  caf::reacts_to<atom::seal, std::uint64_t>,
  // Internal: reads followed jobs' integrity.check again.
  caf::reacts_to<atom::poll>,
  // Internal: reads one frame ahead.
  caf::reacts_to<atom::prefetch>,
  // Internal: checks held items against pipeline.frame_timeout_s.
  caf::reacts_to<atom::tick>,
  // From the tile stitcher: tiled frame (job, generation, index) is stitched
  // (or dropped): its shared memory is freed and the next tiled frame may
  // be read (the bound on tiled frames in flight is the backpressure).
  caf::reacts_to<atom::stitched, std::uint64_t, std::uint32_t, std::uint32_t>>;

/// The EXPORTER (stitcher) commits each frame's crops and record as its
/// result arrives and writes the EcoTaxa TSV, zip and done.txt at the end.
using exporter_actor = caf::typed_actor<
  // Prepares a job's output folder (removing it first when forced) and
  // replies with the indices of frames already committed and the run's
  // operation id (empty without a journal).
  caf::replies_to<atom::begin, job_plan>::with<frame_indices, std::string>,
  // A worker's result for one frame.
  caf::reacts_to<frame_result>,
  // The reader runs the job with the flat recalculation heuristic (sent
  // once, before any frame is handed out): from now on results are settled
  // in frame order, only those of the current flat generation count, and a
  // frame that fires the heuristic sends the reader a reflat. Replies with
  // the generation and the frame whose recalculation window the first flat
  // takes (the frame count: the initial flat), replayed from the committed
  // records so a resumed run goes on as an uninterrupted one would.
  caf::replies_to<atom::recalc, std::uint64_t>::with<std::uint32_t, std::uint32_t>,
  // The job's work will not complete (stop or failure): finish as
  // interrupted or failed without exporting; idempotent.
  caf::reacts_to<atom::stop, std::uint64_t, std::string>,
  // From the reader, for a job that follows an acquisition being written
  // (sent first before its begin): the job has `frames` frames so far, and
  // no more come once `sealed`; it is not finished before it is sealed.
  caf::reacts_to<atom::follow, std::uint64_t, std::uint32_t, bool>,
  // Its own timer: the commit window of group `seq` of the job has passed.
  caf::reacts_to<atom::flush, std::uint64_t, std::uint64_t>,
  // From the reader: a tiled frame is in shared memory and its tiles go
  // out now; handed to the tile stitcher with the reader's handle.
  caf::reacts_to<atom::open, tile_frame>,
  // A worker's result for one tile; handed to the tile stitcher.
  caf::reacts_to<tile_report>>;

/// The TILE STITCHER (beside the exporter, which spawns it) merges the
/// border pieces of a tiled frame's tiles with union-find as the tiles
/// arrive and sends the exporter the frame's result once every tile is in,
/// exactly the objects of an untiled run (kernels/stitch.hpp).
using tile_stitcher_actor = caf::typed_actor<
  // The frame's tiles go out now; the reader is told when it is stitched.
  caf::reacts_to<atom::open, tile_frame, reader_actor>,
  // One tile's result; a repeated tile (a re-run after a loss) is ignored.
  caf::reacts_to<tile_report>,
  // The job's open frames will not complete (it stopped, or its flat was
  // recalculated): they are dropped, the reader told for each.
  caf::reacts_to<atom::stop, std::uint64_t>>;

/// A SEGMENT WORKER pulls work from the reader and does one step per
/// message (decode, correct, mask, label, features, crops), so a stop takes
/// effect between steps.
using segment_worker_actor = caf::typed_actor<
  // Asks the reader for the next work item.
  caf::reacts_to<atom::pull>,
  // Does the next step of the current item.
  caf::reacts_to<atom::step>,
  // Drops the job's current item at the next step boundary; idempotent.
  caf::reacts_to<atom::stop, std::uint64_t>>;

/// The NODE REGISTRY (serve) keeps every node that joined as a worker:
/// its address, state (joining, ready, lost), frames segmented, frames/s
/// over the last minute and last heartbeat (actors/node_registry.hpp).
/// Nodes are known by their CAF node (one per process): a node that says
/// hello again is the same entry, joining again with its frames kept; a
/// restarted process is a new one.
using node_registry_actor = caf::typed_actor<
  // The gatekeeper: the node said hello as a worker (serve registers its
  // own workers the same way, as address "local").
  caf::reacts_to<atom::add, caf::node_id, node_info>,
  // The reader: a worker of the node asked for work, having segmented
  // `frames` frames since its last ask (0 or 1). The node is ready.
  caf::reacts_to<atom::work, caf::node_id, std::uint32_t>,
  // The node's heartbeat (every 500 ms from `segflow worker`); a node that
  // stays silent longer than the registry's timeout counts as lost.
  caf::reacts_to<atom::tick, caf::node_id>,
  // The reader: the node's link is down (its supervisor is down), with why.
  caf::reacts_to<atom::lost, caf::node_id, std::string>,
  // Every node, in registration order.
  caf::replies_to<atom::list>::with<node_listing>,
  // Internal: checks the heartbeats.
  caf::reacts_to<atom::poll>>;

/// The QUEUE's control interface: what a client may ask of the queue, in
/// the same process (`segflow segment`) or over the network (`segflow
/// serve` publishes exactly this interface; `segflow ctl` speaks it). Job ids
/// are the ones add replies with; they are never reused, so a stop naming an
/// old job never reaches another one. Requests that name an unknown job, or
/// a job in the wrong state, fail with an error whose context is one string
/// saying so; nothing changes then.
using queue_control_actor = caf::typed_actor<
  // Queues a job without checking it (a folder that cannot be opened ends
  // the job as failed); replies with its id.
  caf::replies_to<atom::add, job_spec>::with<std::uint64_t>,
  // Checks every job first (the folder is an acquisition: metadata.json and
  // frames; its settings load; it is not pending or running already), then
  // queues all of them, or none naming the first problem; replies with
  // their ids, in order.
  caf::replies_to<atom::add, std::vector<job_spec>>::with<std::vector<std::uint64_t>>,
  // Every job in queue order, and whether the queue is stopped.
  caf::replies_to<atom::list>::with<queue_listing>,
  // One job.
  caf::replies_to<atom::status, std::uint64_t>::with<job_record>,
  // Moves a pending job to a 1-based position among the pending jobs (1 runs
  // next; past the end = last); fails for a job that is not pending.
  // Replies with the new listing.
  caf::replies_to<atom::move, std::uint64_t, std::uint32_t>::with<queue_listing>,
  // Removes a pending job; fails for a job that is not pending. Replies
  // with the removed job.
  caf::replies_to<atom::remove, std::uint64_t>::with<job_record>,
  // Stops one job, the queue goes on: a pending job ends interrupted at
  // once; a running one hands out no more work, drops its in-flight frames
  // at the next step and ends interrupted (committed frames stay for a
  // resume). Replies with the job once it no longer runs. A finished job is
  // left alone (a repeated stop is harmless).
  caf::replies_to<atom::stop, std::uint64_t>::with<job_record>,
  // Stops the queue: the running job finishes, no further job starts.
  // Idempotent. Replies with the listing.
  caf::replies_to<atom::stop_queue>::with<queue_listing>,
  // Lets the queue start jobs again. Idempotent. Replies with the listing.
  caf::replies_to<atom::resume>::with<queue_listing>,
  // Stops the running job and every pending one (all end interrupted);
  // replies with the listing once no job runs.
  caf::replies_to<atom::stop_all>::with<queue_listing>,
  // Replies once no job is pending or running, with every summary.
  caf::replies_to<atom::wait>::with<std::vector<job_summary>>,
  // Sends the sink every status event from now on (job ids as above) until
  // the sink terminates; replies true.
  caf::replies_to<atom::subscribe, status_sink_actor>::with<bool>,
  // A worker process joins (`segflow worker`, same host): replies with the
  // reader its workers pull from and the exporter they send results to.
  caf::replies_to<atom::join>::with<reader_actor, exporter_actor>,
  // The acquisition a following job (pipeline.follow) segments is complete,
  // e.g. the imager said Done: the job ends once its last frames are done.
  // Replies false for a job that has ended or is unknown; idempotent.
  caf::replies_to<atom::seal, std::uint64_t>::with<bool>,
  // Every worker node serve knows (the node registry's listing); fails
  // with ec::bad_request where there is no registry (segflow segment).
  caf::replies_to<atom::nodes>::with<node_listing>>;

/// The FLAT SOURCE hands serve's flat-field segments to worker nodes that do
/// not share its shared memory, in pieces (a whole 37 MB flat in one BASP
/// message would outlive a slow link's connection timeout). Only segments
/// of this serve (segflow-<pid>-...) are handed out.
using flat_source_actor = caf::typed_actor<
  // The segment's shape and size.
  caf::replies_to<atom::open, std::string>::with<flat_shape>,
  // `length` bytes of the segment's image from `offset` (fewer at its end).
  caf::replies_to<atom::fetch, std::string, std::uint64_t, std::uint32_t>::with<flat_piece>>;

/// The GATEKEEPER is the only actor `segflow serve` publishes. Its only
/// request is a hello with the serve's token (actors/io/serve_token.hpp);
/// a valid hello returns the handles the caller's role needs and a wrong or
/// missing token fails with ec::not_authorized and no handle. Nothing else of
/// serve is reachable without one.
using gatekeeper_actor = caf::typed_actor<
  // `segflow ctl` and the MQTT bridge: the queue's control handle.
  caf::replies_to<atom::hello, atom::control, std::string>::with<queue_control_actor>,
  // A worker node registers: the reader its workers pull from, the exporter
  // they send results to (the queue's join), the flat source, the node
  // registry it sends its heartbeats to, and whether the node shares
  // serve's shared memory (node_info's boot id and /dev/shm match serve's).
  // A node of another segflow version is refused (ec::bad_request naming
  // both versions).
  caf::replies_to<atom::hello, atom::join, std::string, node_info>::with<
    reader_actor, exporter_actor, flat_source_actor, node_registry_actor, bool>>;

/// The QUEUE runs jobs one at a time, in queue order. While the running
/// job's last frames are in flight it already prepares the next job (lease,
/// frame listing, flat field), which still shows pending until it runs.
using queue_actor = queue_control_actor::extend<
  // Shutting down (serve): no job starts any more; the running job is
  // stopped and marked to resume at the next start. Replies with the
  // listing once no job runs.
  caf::replies_to<atom::shutdown>::with<queue_listing>,
  // Internal: the exporter finished a run (ids here are run ids, see
  // queue.hpp).
  caf::reacts_to<atom::finished, job_summary>,
  // Internal: the reader could not complete a run (e.g. the flat failed).
  caf::reacts_to<atom::failed, std::uint64_t, std::string>,
  // Internal: the reader handed out a run's last frame.
  caf::reacts_to<atom::drained, std::uint64_t>,
  // Internal: a status event from the hub (the queue is a subscriber).
  caf::reacts_to<job_event>>;

/// The MQTT BRIDGE speaks the PlanktoScope segmenter's MQTT protocol onto
/// the queue's control interface (actors/mqtt_bridge.hpp): requests in,
/// reference status strings out. It never talks to the broker itself: the
/// MQTT client hands it messages and publishes what it says.
using mqtt_bridge_actor = caf::typed_actor<
  // A status event of the queue (the bridge subscribes as a sink).
  caf::reacts_to<job_event>,
  // A message from the broker: topic, payload.
  caf::reacts_to<atom::received, std::string, std::string>,
  // The client is connected (again): the first time, publishes Ready.
  caf::reacts_to<atom::online>,
  // Shutting down: publishes Dead; replies true once it is handed over.
  caf::replies_to<atom::shutdown>::with<bool>>;

} // namespace seg
