#pragma once

#include <cstdint>

namespace seg {

/// How a frame is cut (kernels::tile_layout in message form).
struct tile_grid {
  std::int32_t frame_width = 0;
  std::int32_t frame_height = 0;
  std::int32_t tile_width = 0;  ///< core size of every tile but the last column/row
  std::int32_t tile_height = 0;
  std::int32_t halo = 0;

  std::int32_t cols() const { return tile_width > 0 ? (frame_width + tile_width - 1) / tile_width : 0; }
  std::int32_t rows() const { return tile_height > 0 ? (frame_height + tile_height - 1) / tile_height : 0; }
  std::int32_t count() const { return cols() * rows(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tile_grid& x) {
  return f(x.frame_width, x.frame_height, x.tile_width, x.tile_height, x.halo);
}

} // namespace seg
