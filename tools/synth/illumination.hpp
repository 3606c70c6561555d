#pragma once

// The static illumination of an acquisition: its parameters drawn from the
// seed, and its luminance rendered per pixel (model in synth.hpp).

#include <cstdint>

#include <opencv2/core.hpp>

#include "tools/synth/synth.hpp"

namespace seg::detail {

synth_illumination_params draw_illumination(int w, int h, std::uint64_t seed);

cv::Mat1f render_luminance(int w, int h, const synth_illumination_params& p);

} // namespace seg::detail
