#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>
#include <caf/spawn_options.hpp>
#include <opencv2/core/mat.hpp>

#include "actors/interfaces.hpp"
#include "kernels/correct_bands.hpp"
#include "kernels/features.hpp"
#include "kernels/flat_stream.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"

namespace seg::shm {
class image_segment;
}
namespace seg::io {
class node_paths;
}

namespace seg {

/// The steps of segmenting one frame, one message each. `previous` (with
/// remove_previous_mask, before decode) tries one earlier frame per message;
/// `bands` (correct while decoding, instead of correct) decodes and corrects
/// a few bands of rows per message until the frame is done.
enum class frame_step : std::uint8_t {
  decode, bands, correct, mask, label, features, crops, previous
};

struct segment_worker_state {
  static inline const char* name = "segment-worker";
  reader_actor reader;
  exporter_actor exporter;
  std::optional<work_item> item;         ///< what is being worked on
  frame_step next = frame_step::decode;
  std::set<std::uint64_t> stopped_jobs;  ///< jobs whose work is dropped
  std::chrono::steady_clock::time_point asked;     ///< when the last pull went out
  std::chrono::steady_clock::time_point step_started;
  frame_result result;
  // Intermediates of the current frame.
  cv::Mat frame;
  cv::Mat corrected;                     ///< frame, corrected in place
  cv::Mat gray;                          ///< its gray image, from the correct step (kept)
  kernels::gray_histogram gray_hist{};   ///< gray's histogram, from the correct step
  /// Correct while decoding (work_item::band_rows): the frame being decoded
  /// and corrected into `frame` and `gray`, band by band.
  std::optional<kernels::banded_correction> bands;
  kernels::mask_result mask;
  kernels::labelling labelled;
  std::vector<kernels::region> kept;
  std::vector<kernels::object_features> features;
  // remove_previous_mask: the step-0 mask of frame previous_index of job
  // previous_job under flat previous_flat (empty: none). It is kept after a
  // frame, so a worker given consecutive frames decodes nothing extra.
  cv::Mat previous_mask;
  std::uint64_t previous_job = 0;
  std::string previous_flat;
  std::int64_t previous_index = -1;
  std::size_t previous_tried = 0;  ///< earlier frames tried for the current frame
  step_timings previous_timings;   ///< their decode/correct/threshold times
  // The flat field mapped from shared memory, kept while jobs use it.
  std::string flat_name;
  std::shared_ptr<shm::image_segment> flat;
  // Decode once: the flat's stack, mapped while the current frame is
  // corrected from its slot (`source`); empty source: from `frame`.
  std::shared_ptr<shm::image_segment> stack;
  cv::Mat source;
  /// On a node that does not share serve's shared memory: makes the named
  /// flat segment exist locally (copied from serve) before it is mapped.
  std::function<void(const std::string&)> flat_provider;
  /// This process's node name (host:pid), carried by each result.
  std::string node;
  /// Counts the frames this worker segmented (shared with its process).
  std::shared_ptr<std::atomic<std::uint64_t>> frames_counter;
  /// Paths mode, on a node started with data roots (shared with its
  /// process): checks one frame a job against the bytes serve sent.
  std::shared_ptr<io::node_paths> paths;
  // Tiled frames: the frame read into (tile_read) or cut from (tile), mapped
  // while the item is worked on.
  std::shared_ptr<shm::image_segment> tile_pixels;
  tile_report tile_result;               ///< the current tile's answer
  /// A tiled acquisition's flat, streamed from its frames (flat_stream),
  /// with the encoded frames its readers decode from.
  std::optional<kernels::streamed_flat> streamed;
  std::vector<std::vector<std::uint8_t>> streamed_bytes;
  std::shared_ptr<shm::image_segment> streamed_into; ///< the flat segment, mapped once
};

/// A segment worker: see segment_worker_actor in interfaces.hpp. It starts
/// pulling work from `reader` at once and sends frame results to `exporter`,
/// flat-field results to `reader`.
segment_worker_actor::behavior_type
segment_worker(segment_worker_actor::stateful_pointer<segment_worker_state> self,
               reader_actor reader, exporter_actor exporter);

/// A segment worker of a `segflow worker` node: `flat_provider` (set on a
/// node that does not share serve's shared memory) is called with a flat
/// segment's name before the worker maps it (and only then), to copy it
/// into this host's shared memory; `paths` (set on a node with data roots)
/// verifies that the node sees the frames serve reads (paths mode).
segment_worker_actor::behavior_type
node_segment_worker(segment_worker_actor::stateful_pointer<segment_worker_state> self,
                    reader_actor reader, exporter_actor exporter,
                    std::function<void(const std::string&)> flat_provider,
                    std::shared_ptr<std::atomic<std::uint64_t>> frames_counter,
                    std::shared_ptr<io::node_paths> paths = nullptr);

/// Spawns a segment worker pulling from `reader` and reporting to
/// `exporter` (both must be set) through `spawner`: the actor system, or
/// the actor that owns it (the queue and the reader link theirs). Workers
/// run detached: a step blocks its thread for a frame's worth of pixels.
template <caf::spawn_options Os = caf::detached, class Spawner>
caf::expected<segment_worker_actor>
spawn_segment_worker(Spawner& spawner, reader_actor reader, exporter_actor exporter) {
  if (!reader || !exporter)
    return caf::make_error(caf::sec::invalid_argument,
                           "segment worker: the reader and the exporter must be set");
  return spawner.template spawn<Os>(segment_worker, std::move(reader), std::move(exporter));
}

/// Tells each of `workers` to drop run `run`'s item at its next step
/// boundary (atom::stop: idempotent, other runs' work goes on).
template <class Self, class Workers>
void stop_workers(Self* self, const Workers& workers, std::uint64_t run) {
  for (auto& w : workers)
    self->send(w, atom::stop::value, run);
}

} // namespace seg
