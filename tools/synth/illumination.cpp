#include "tools/synth/illumination.hpp"

#include <algorithm>
#include <cmath>

#include "tools/synth/prng.hpp"

namespace seg::detail {

synth_illumination_params draw_illumination(int w, int h, std::uint64_t seed) {
  prng r(derive(seed, tag_illumination));
  synth_illumination_params p;
  p.centre_level = r.uniform(232, 240);
  p.axis_x = w / 2.0 + r.uniform(-0.05, 0.05) * w;
  p.axis_y = h / 2.0 + r.uniform(-0.05, 0.05) * h;
  p.vignette_a = r.uniform(0.18, 0.26);
  p.vignette_b = r.uniform(0.04, 0.10);
  p.gradient_x = r.uniform(-0.03, 0.03);
  p.gradient_y = r.uniform(-0.03, 0.03);
  p.tint_bgr = {r.uniform(0.93, 0.97), 1.0, r.uniform(0.97, 1.0)};
  // Dust scales with the frame: a few specks even on small frames, about
  // 14 on a full 4056×3040 frame (as compose.py).
  const double s = std::sqrt(static_cast<double>(w) * h / (1014.0 * 760.0));
  const int n = 3 + static_cast<int>(std::lround(11.0 * w * h / (4056.0 * 3040.0)));
  for (int k = 0; k < n; ++k) {
    synth_dust d;
    d.x = r.uniform(0, w);
    d.y = r.uniform(0, h);
    d.ring = k % 3 == 2;
    d.radius = std::max(1.0, (d.ring ? r.uniform(4, 10) : r.uniform(1, 4)) * s);
    d.depth = d.ring ? r.uniform(0.03, 0.08) : r.uniform(0.04, 0.15);
    p.dust.push_back(d);
  }
  return p;
}

cv::Mat1f render_luminance(int w, int h, const synth_illumination_params& p) {
  cv::Mat1f lum(h, w);
  const double half_diag2 = (w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0);
  for (int y = 0; y < h; ++y) {
    float* row = lum[y];
    const double dy = y - p.axis_y;
    const double gy = p.gradient_y * (2.0 * y / h - 1.0);
    for (int x = 0; x < w; ++x) {
      const double dx = x - p.axis_x;
      const double r2 = (dx * dx + dy * dy) / half_diag2;
      const double v = 1.0 - p.vignette_a * r2 - p.vignette_b * r2 * r2;
      const double g = 1.0 + p.gradient_x * (2.0 * x / w - 1.0) + gy;
      row[x] = static_cast<float>(p.centre_level * v * g);
    }
  }
  for (auto& d : p.dust) {
    const double reach = 4 * d.radius + 4;
    const int x0 = std::max(0, static_cast<int>(std::floor(d.x - reach)));
    const int x1 = std::min(w, static_cast<int>(std::ceil(d.x + reach)) + 1);
    const int y0 = std::max(0, static_cast<int>(std::floor(d.y - reach)));
    const int y1 = std::min(h, static_cast<int>(std::ceil(d.y + reach)) + 1);
    const double ring_sigma = 0.18 * d.radius;
    for (int y = y0; y < y1; ++y) {
      float* row = lum[y];
      for (int x = x0; x < x1; ++x) {
        const double dist = std::hypot(x - d.x, y - d.y);
        const double prof
          = d.ring ? std::exp(-(dist - d.radius) * (dist - d.radius)
                              / (2 * ring_sigma * ring_sigma))
                   : std::exp(-dist * dist / (2 * d.radius * d.radius));
        row[x] = static_cast<float>(row[x] * (1.0 - d.depth * prof));
      }
    }
  }
  return lum;
}

} // namespace seg::detail
