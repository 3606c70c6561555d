#pragma once

// Particles on the seams of tile grids (synth_options::seam_grids): each
// placed where a tiled segmentation has to merge pieces across tiles, or
// must leave an object near a seam whole.

#include <vector>

#include <opencv2/core.hpp>

#include "tools/synth/particles.hpp"
#include "tools/synth/synth.hpp"

namespace seg::detail {

// Places the seam particles of good frame `index` for every grid of `o`,
// each at least `gap` px from the windows in `taken`; appends them to
// `patches` and their windows to `taken`. Returns the cases left out (no
// seam for them in the grid, or no free place).
int place_seam_particles(const synth_options& o, double scale, int index, int gap,
                         std::vector<cv::Rect>& taken, std::vector<patch>& patches);

} // namespace seg::detail
