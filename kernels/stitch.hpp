#pragma once
// The tile stitcher's kernel: merges the pieces of tiles (kernels/tiles.hpp)
// with union-find as tiles arrive, in any order, and measures each merged
// object from its merged mask once every tile it could reach has arrived.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "kernels/tiles.hpp"

namespace seg::kernels {

/// The corrected frame over a rectangle (CV_8UC3 of the rectangle's size):
/// where a merged object's features and crop are taken from.
using pixel_source = std::function<cv::Mat(const cv::Rect&)>;

/// Merges one frame's tile results into the frame's objects.
class tile_stitcher {
public:
  tile_stitcher(const tile_layout& layout, const segment_params& params, pixel_source pixels);

  /// Takes one tile's result: keeps its whole objects, unites its pieces
  /// with the touching pieces of neighbours already added, and measures the
  /// merged objects that can grow no more (every tile a piece of theirs
  /// touches has been added).
  /// @pre the tile was not added before
  void add(tile_result result);

  bool complete() const { return added_ == static_cast<std::size_t>(layout_.count()); }
  std::size_t tiles_added() const { return added_; }
  /// Pieces waiting for a neighbour tile (the cache a pipeline bounds).
  std::size_t pieces_held() const { return held_; }
  /// Pixel runs of the pieces held (their memory, roughly 12 bytes each).
  std::size_t runs_held() const { return runs_held_; }
  /// Objects that were merged from pieces so far.
  std::size_t merged_objects() const { return merged_; }

  /// The frame's objects, in the order (and so with the indices) of an
  /// untiled run: raster order of their first pixels.
  /// @pre complete()
  std::vector<frame_object> take_objects();

private:
  bool touches(std::uint32_t p, std::uint32_t q, seam_bit toward) const;
  std::uint32_t find(std::uint32_t i);
  void unite(std::uint32_t a, std::uint32_t b);
  bool can_grow(std::uint32_t root) const;
  void finish(std::uint32_t root);

  tile_layout layout_;
  segment_params params_;
  pixel_source pixels_;
  std::vector<bool> arrived_;
  std::size_t added_ = 0;
  std::vector<tile_piece> pieces_;
  std::vector<int> piece_tile_;
  std::vector<bool> done_;                    ///< per piece: measured (or filtered out)
  std::vector<std::uint32_t> parent_;
  std::vector<std::vector<std::uint32_t>> members_; ///< per root
  std::vector<std::vector<std::uint32_t>> tile_pieces_;
  std::vector<frame_object> objects_;
  std::size_t held_ = 0;
  std::size_t runs_held_ = 0;
  std::size_t merged_ = 0;
};

} // namespace seg::kernels
