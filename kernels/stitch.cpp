#include "kernels/stitch.hpp"

#include <algorithm>
#include <utility>

#include <opencv2/core.hpp>

namespace seg::kernels {

namespace {

constexpr seam_bit all_seams[] = {seam_n, seam_s, seam_w, seam_e,
                                  seam_nw, seam_ne, seam_sw, seam_se};

// Whether a run of a piece of the tile with this core lies on the seam
// toward `bit` (corners: on both edges).
bool on_seam(const pixel_run& r, const cv::Rect& core, std::uint8_t bit) {
  const bool top = r.y == core.y, bottom = r.y == core.y + core.height - 1;
  const bool left = r.x_begin == core.x, right = r.x_end == core.x + core.width;
  switch (bit) {
    case seam_n: return top;
    case seam_s: return bottom;
    case seam_w: return left;
    case seam_e: return right;
    case seam_nw: return top && left;
    case seam_ne: return top && right;
    case seam_sw: return bottom && left;
    case seam_se: return bottom && right;
  }
  return false;
}

bool raster_before(const cv::Point& a, const cv::Point& b) {
  return a.y < b.y || (a.y == b.y && a.x < b.x);
}

} // namespace

tile_stitcher::tile_stitcher(const tile_layout& layout, const segment_params& params,
                             pixel_source pixels)
    : layout_(layout), params_(params), pixels_(std::move(pixels)),
      arrived_(static_cast<std::size_t>(layout.count()), false),
      tile_pieces_(static_cast<std::size_t>(layout.count())) {}

std::uint32_t tile_stitcher::find(std::uint32_t i) {
  while (parent_[i] != i) {
    parent_[i] = parent_[parent_[i]];
    i = parent_[i];
  }
  return i;
}

void tile_stitcher::unite(std::uint32_t a, std::uint32_t b) {
  a = find(a);
  b = find(b);
  if (a == b)
    return;
  if (members_[a].size() < members_[b].size())
    std::swap(a, b);
  parent_[b] = a;
  members_[a].insert(members_[a].end(), members_[b].begin(), members_[b].end());
  members_[b].clear();
  members_[b].shrink_to_fit();
}

// Runs on p's seam toward q's tile against q's runs in the three rows around
// each: 8-adjacent iff the rows differ by at most one and the column spans
// touch (ends exclusive, as in label_regions).
bool tile_stitcher::touches(std::uint32_t p, std::uint32_t q, seam_bit toward) const {
  const cv::Rect core = layout_.core(piece_tile_[p]);
  const auto& qr = pieces_[q].runs;
  for (const auto& a : pieces_[p].runs) {
    if (!on_seam(a, core, toward))
      continue;
    auto it = std::lower_bound(qr.begin(), qr.end(), a.y - 1,
                               [](const pixel_run& r, int y) { return r.y < y; });
    for (; it != qr.end() && it->y <= a.y + 1; ++it)
      if (it->x_begin <= a.x_end && a.x_begin <= it->x_end)
        return true;
  }
  return false;
}

// A merged object can still grow while a piece of it touches the seam of a
// tile not yet added.
bool tile_stitcher::can_grow(std::uint32_t root) const {
  for (std::uint32_t m : members_[root])
    for (seam_bit bit : all_seams) {
      if (!(pieces_[m].seams & bit))
        continue;
      const cv::Point d = seam_offset(bit);
      if (!arrived_[static_cast<std::size_t>(layout_.neighbour(piece_tile_[m], d.x, d.y))])
        return true;
    }
  return false;
}

void tile_stitcher::finish(std::uint32_t root) {
  std::vector<pixel_run> runs;
  std::int64_t area = 0;
  cv::Rect bbox = pieces_[members_[root].front()].bbox;
  for (std::uint32_t m : members_[root]) {
    tile_piece& piece = pieces_[m];
    runs.insert(runs.end(), piece.runs.begin(), piece.runs.end());
    area += piece.area;
    bbox |= piece.bbox;
    runs_held_ -= piece.runs.size();
    piece.runs.clear();
    piece.runs.shrink_to_fit();
    done_[m] = true;
    --held_;
  }
  const std::size_t pieces = members_[root].size();
  members_[root].clear();
  members_[root].shrink_to_fit();
  // The same size filter as an untiled run, on the summed area.
  region whole;
  whole.area = area;
  size_filter_params fp;
  fp.min_esd = params_.min_esd_px;
  if (filter_regions({whole}, fp).empty())
    return;
  std::sort(runs.begin(), runs.end(), [](const pixel_run& a, const pixel_run& b) {
    return a.y < b.y || (a.y == b.y && a.x_begin < b.x_begin);
  });
  const cv::Rect crop = crop_rect(bbox, layout_.frame, params_.crop_margin);
  const cv::Mat pixels = pixels_(crop);
  CV_Assert(pixels.type() == CV_8UC3 && pixels.size() == crop.size());
  objects_.push_back(measure_runs(runs, bbox, layout_.frame, pixels, crop, params_));
  if (pieces > 1)
    ++merged_;
}

void tile_stitcher::add(tile_result result) {
  const int t = result.tile;
  CV_Assert(t >= 0 && t < layout_.count() && !arrived_[static_cast<std::size_t>(t)]);
  arrived_[static_cast<std::size_t>(t)] = true;
  ++added_;
  for (auto& o : result.objects)
    objects_.push_back(std::move(o));
  std::vector<std::uint32_t> fresh;
  for (auto& piece : result.pieces) {
    const auto id = static_cast<std::uint32_t>(pieces_.size());
    runs_held_ += piece.runs.size();
    pieces_.push_back(std::move(piece));
    piece_tile_.push_back(t);
    done_.push_back(false);
    parent_.push_back(id);
    members_.push_back({id});
    tile_pieces_[static_cast<std::size_t>(t)].push_back(id);
    fresh.push_back(id);
    ++held_;
  }
  // Pieces of added neighbours facing this tile: united with the new ones
  // they touch, and perhaps unable to grow now.
  std::vector<std::uint32_t> candidates = fresh;
  for (seam_bit bit : all_seams) {
    const cv::Point d = seam_offset(bit);
    const int n = layout_.neighbour(t, d.x, d.y);
    if (n < 0 || !arrived_[static_cast<std::size_t>(n)])
      continue;
    for (std::uint32_t q : tile_pieces_[static_cast<std::size_t>(n)]) {
      if (done_[q] || !(pieces_[q].seams & opposite(bit)))
        continue;
      candidates.push_back(q);
      for (std::uint32_t p : fresh)
        if ((pieces_[p].seams & bit) && find(p) != find(q) && touches(p, q, bit))
          unite(p, q);
    }
  }
  for (std::uint32_t c : candidates) {
    if (done_[c])
      continue;
    const std::uint32_t root = find(c);
    if (!can_grow(root))
      finish(root);
  }
  // Forget finished pieces' ids so later tiles do not scan them.
  auto& mine = tile_pieces_[static_cast<std::size_t>(t)];
  mine.erase(std::remove_if(mine.begin(), mine.end(), [&](std::uint32_t i) { return done_[i]; }),
             mine.end());
}

std::vector<frame_object> tile_stitcher::take_objects() {
  CV_Assert(complete() && held_ == 0);
  std::sort(objects_.begin(), objects_.end(), [](const frame_object& a, const frame_object& b) {
    return raster_before(a.first, b.first);
  });
  return std::move(objects_);
}

} // namespace seg::kernels
