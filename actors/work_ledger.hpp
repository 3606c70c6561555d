#pragma once

// The reader's book of what every worker holds: held items, workers lost
// with their items, items that overran the time limit and the workers
// abandoned for it. Plain C++ (no CAF, no clock of its own), so every rule
// is unit-tested on its own (tests/actors/work_ledger_test.cpp); the reader
// keys it by caf::actor_addr.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "messages/work_item.hpp"

namespace seg {

/// The item a worker holds, enough to hand it out again if the worker is
/// lost (its process dies) or to fail it when it overruns.
struct held_item {
  std::uint64_t job_id = 0;
  std::uint32_t generation = 0;
  work_kind kind = work_kind::idle;
  std::uint32_t index = 0;   ///< frame index (segment) or stack slot (flat decode)
  std::int32_t row_begin = 0;
  std::int32_t row_end = 0;
  std::int32_t tile = -1;    ///< tile of a tiled frame
  std::chrono::steady_clock::time_point since; ///< handed out
};

/// The held item of `item`, handed out at `since`.
inline held_item held_of(const work_item& item, std::chrono::steady_clock::time_point since) {
  held_item h;
  h.job_id = item.job_id;
  h.generation = item.generation;
  h.kind = work_kind(item.kind);
  h.index = item.index;
  h.row_begin = item.row_begin;
  h.row_end = item.row_end;
  h.tile = item.tile;
  h.since = since;
  return h;
}

/// What each worker holds. A worker works on one item at a time and asks
/// again when done, so its next ask ends its hold. `Worker` is any ordered
/// handle (the reader's caf::actor_addr, a number in tests).
template <class Worker>
class work_ledger {
public:
  using clock_type = std::chrono::steady_clock;

  // -- holds ------------------------------------------------------------------

  /// `w` asks for work: what it held is done. Returns true the first time
  /// `w` is seen (the caller watches it from then on), false afterwards.
  bool asks(const Worker& w) {
    held_.erase(w);
    return known_.insert(w).second;
  }

  /// What `w` holds, or nullptr.
  const held_item* held_by(const Worker& w) const {
    auto it = held_.find(w);
    return it == held_.end() ? nullptr : &it->second;
  }

  /// `w` holds `item` from now on, replacing what it held.
  void hold(const Worker& w, const held_item& item) {
    held_[w] = item;
  }

  /// `w` reported its item without asking for more (a flat step's result).
  void release(const Worker& w) {
    held_.erase(w);
  }

  /// Whether any worker holds an item.
  bool holding() const {
    return !held_.empty();
  }

  /// Whether a worker holds frame `index` of `job` for segmenting.
  bool holds_frame(std::uint64_t job, std::uint32_t index) const {
    for (auto& entry : held_) {
      auto& h = entry.second;
      if (h.job_id == job && h.kind == work_kind::segment && h.index == index)
        return true;
    }
    return false;
  }

  /// The lowest frame held for segmenting in `job`'s flat generation
  /// `generation`, or nullopt if none is.
  std::optional<std::uint32_t> lowest_frame(std::uint64_t job,
                                            std::uint32_t generation) const {
    std::optional<std::uint32_t> lowest;
    for (auto& entry : held_) {
      auto& h = entry.second;
      if (h.job_id == job && h.generation == generation && h.kind == work_kind::segment)
        lowest = std::min(lowest.value_or(h.index), h.index);
    }
    return lowest;
  }

  /// Every worker seen asking and not lost since, in handle order.
  const std::set<Worker>& workers() const {
    return known_;
  }

  // -- lost workers -----------------------------------------------------------

  /// `w` is gone (its process died, its actor quit): it is forgotten, its
  /// abandonment too, and what it held is returned.
  std::optional<held_item> lost(const Worker& w) {
    abandoned_.erase(w);
    known_.erase(w);
    auto it = held_.find(w);
    if (it == held_.end())
      return std::nullopt;
    auto h = it->second;
    held_.erase(it);
    return h;
  }

  /// Counts a loss of `item` (by job, kind and frame index, stack slot,
  /// first band row or frame and tile, whatever its generation). Returns
  /// true if the same item was lost before: lost once it goes out again,
  /// twice it fails.
  bool lost_before(const held_item& item) {
    auto where = item.kind == work_kind::flat_band ? std::int64_t(item.row_begin)
                 : item.kind == work_kind::tile
                   ? (std::int64_t(item.index) << 32) | std::uint32_t(item.tile)
                   : std::int64_t(item.index);
    return losses_[{item.job_id, item.kind, where}]++ > 0;
  }

  /// Forgets the losses counted for `job` (it was stopped).
  void forget_job(std::uint64_t job) {
    auto it = losses_.lower_bound(
      {job, work_kind::idle, std::numeric_limits<std::int64_t>::min()});
    while (it != losses_.end() && std::get<0>(it->first) == job)
      it = losses_.erase(it);
  }

  // -- timeouts and restarts --------------------------------------------------

  /// The items held longer than `limit` at `now`, in worker order, taken out
  /// of the ledger; their workers are abandoned.
  std::vector<std::pair<Worker, held_item>>
  take_overdue(clock_type::time_point now, std::chrono::duration<double> limit) {
    std::vector<std::pair<Worker, held_item>> overdue;
    for (auto& [w, h] : held_)
      if (now - h.since > limit)
        overdue.emplace_back(w, h);
    for (auto& [w, h] : overdue) {
      held_.erase(w);
      abandoned_.insert(w);
    }
    return overdue;
  }

  /// Whether `w` was abandoned: its late results are dropped.
  bool abandoned(const Worker& w) const {
    return abandoned_.count(w) > 0;
  }

  /// Ends `w`'s abandonment (it asked again and is told to quit); returns
  /// whether it was abandoned.
  bool forgive(const Worker& w) {
    return abandoned_.erase(w) > 0;
  }

private:
  std::map<Worker, held_item> held_;
  std::set<Worker> known_;
  std::set<Worker> abandoned_;
  /// Losses by (job, kind, frame index / stack slot / first band row).
  std::map<std::tuple<std::uint64_t, work_kind, std::int64_t>, std::uint32_t> losses_;
};

} // namespace seg
