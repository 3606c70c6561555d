#pragma once

// Tiled frames between the kernels' types (kernels/tiles.hpp) and their
// message form (messages/tile.hpp), both ways. No CAF here.

#include "kernels/tiles.hpp"
#include "messages/tile.hpp"

namespace seg {

kernels::tile_layout to_layout(const tile_grid& grid);
tile_grid to_grid(const kernels::tile_layout& layout);

/// The kernels' segmentation parameters of a job's (the untiled worker's
/// choices: the size filter in pixels, the default mask).
kernels::segment_params to_kernel_params(const segment_params& params);

/// Moves a tile's objects and pieces into `report` (its other fields stay).
void fill_report(kernels::tile_result&& result, tile_report& report);

/// The kernels' tile result of a report. Throws std::invalid_argument when a
/// feature vector or a run list is malformed.
kernels::tile_result to_tile_result(const tile_report& report);

} // namespace seg
