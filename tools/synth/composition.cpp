// Frame composition: particles placed apart from each other (a few straddle
// an edge; with seam grids, some on the grids' seams first), their transmissions multiplied onto the illumination with the
// frame's gain and sensor noise; and synth_generator, which renders frame i
// from the options and i alone.
#include <algorithm>
#include <cmath>
#include <optional>

#include "tools/synth/crops.hpp"
#include "tools/synth/illumination.hpp"
#include "tools/synth/particles.hpp"
#include "tools/synth/prng.hpp"
#include "tools/synth/seams.hpp"
#include "tools/synth/synth.hpp"

namespace seg {

using namespace detail;

namespace {

constexpr double edge_fraction = 0.1;    // particles that straddle a frame edge
constexpr int place_tries = 60;
constexpr int stuck_from = 10;           // stuck particles appear from this good frame on

// -- placement ----------------------------------------------------------------

// Top-left corner for a window of size (ww, wh): inside the frame, or (with
// probability edge_fraction) straddling one edge by 20-45 % of its size.
cv::Point2d draw_position(prng& r, int ww, int wh, int w, int h) {
  double x = r.uniform(0, std::max(0, w - ww));
  double y = r.uniform(0, std::max(0, h - wh));
  if (r.uniform() < edge_fraction) {
    const double f = r.uniform(0.2, 0.45);
    switch (r.integer(0, 3)) {
      case 0:
        x = -f * ww;
        break;
      case 1:
        x = w - (1 - f) * ww;
        break;
      case 2:
        y = -f * wh;
        break;
      default:
        y = h - (1 - f) * wh;
        break;
    }
  }
  return {x, y};
}

// -- frame composition --------------------------------------------------------

// raw = lum × tint × gain × T + noise, rounded and clipped to [1, 255], with
// T the product of the patches' transmissions (1 elsewhere), assembled row by
// row. Each row has its own noise stream, so rows can be composed in parallel
// and the result does not depend on the thread count.
cv::Mat3b compose(const cv::Mat1f& lum, const std::array<double, 3>& tint, double gain,
                  const std::vector<patch>& patches, std::uint64_t seed, int index) {
  const int w = lum.cols;
  const int h = lum.rows;
  cv::Mat3b out(h, w);
  const auto& table = noise_table();
  const float k[3] = {static_cast<float>(tint[0] * gain), static_cast<float>(tint[1] * gain),
                      static_cast<float>(tint[2] * gain)};
  cv::parallel_for_(cv::Range(0, h), [&](const cv::Range& rows) {
    std::vector<float> trans(static_cast<std::size_t>(w) * 3);
    for (int y = rows.start; y < rows.end; ++y) {
      std::fill(trans.begin(), trans.end(), 1.0f);
      for (auto& p : patches) {
        if (y < p.window.y || y >= p.window.y + p.window.height)
          continue;
        const int xa = std::max(0, p.window.x);
        const int xb = std::min(w, p.window.x + p.window.width);
        const float* src = p.trans.ptr<float>(y - p.window.y);
        const int ch = p.trans.channels();
        for (int x = xa; x < xb; ++x) {
          const float* t = src + (x - p.window.x) * ch;
          float* d = &trans[3 * static_cast<std::size_t>(x)];
          for (int c = 0; c < 3; ++c)
            d[c] *= t[ch == 3 ? c : 0];
        }
      }
      prng r(derive(seed, tag_noise, static_cast<std::uint64_t>(index),
                    static_cast<std::uint64_t>(y)));
      const float* l = lum[y];
      uchar* o = out.ptr<uchar>(y);
      for (int x = 0; x < w; ++x) {
        // 16 bits per sample; the fourth quarter of the draw is unused.
        const std::uint64_t bits = r.next();
        const float* t = &trans[3 * static_cast<std::size_t>(x)];
        for (int c = 0; c < 3; ++c) {
          const float v = l[x] * k[c] * t[c] + table[(bits >> (16 * c)) & 0xFFFF];
          o[3 * x + c] = static_cast<uchar>(std::clamp(cvRound(v), 1, 255));
        }
      }
    }
  });
  return out;
}

} // namespace

// -- generator ----------------------------------------------------------------

struct synth_generator::impl {
  synth_options opts;
  double scale = 1; // linear size relative to 1014×760
  synth_illumination_params illum;
  cv::Mat1f lum;
  std::shared_ptr<const crop_pool> crops; // null: synthetic particles
  std::vector<patch> stuck;               // synth_options::stuck particles

  impl(const synth_options& o, std::shared_ptr<const crop_pool> pool)
    : opts(o), crops(std::move(pool)) {
    scale = std::sqrt(static_cast<double>(o.width) * o.height / (1014.0 * 760.0));
    illum = draw_illumination(o.width, o.height, o.seed);
    lum = render_luminance(o.width, o.height, illum);
    stuck = place_stuck(o, scale);
  }

  // Synthetic shapes (also with crops), each from its own stream, inside the
  // frame, apart from each other and with an equivalent diameter of at least
  // 30 px at 1014x760 (so the 20 px size filter keeps them); one that finds
  // no place is left out.
  static std::vector<patch> place_stuck(const synth_options& o, double scale) {
    std::vector<patch> out;
    std::vector<cv::Rect> taken;
    const double min_area = pi * 15 * 15 * scale * scale;
    for (int j = 0; j < o.stuck; ++j) {
      prng r(derive(o.seed, tag_stuck, static_cast<std::uint64_t>(j)));
      for (int t = 0; t < place_tries; ++t) {
        const shape s = draw_shape(r, scale, o.width, o.height);
        const double cx = r.uniform(s.half_w + 2, std::max(s.half_w + 2, o.width - s.half_w - 2));
        const double cy =
            r.uniform(s.half_h + 2, std::max(s.half_h + 2, o.height - s.half_h - 2));
        patch p = render_shape(s, cx, cy, o.width, o.height);
        if (p.truth.area < min_area || collides(p.window, taken))
          continue;
        p.truth.stuck = true;
        taken.push_back(p.window);
        out.push_back(std::move(p));
        break;
      }
    }
    return out;
  }
};

synth_generator::synth_generator(const synth_options& opts) {
  std::shared_ptr<const crop_pool> pool;
  if (!opts.crops.empty()) {
    pool = load_crops(opts.crops, opts.width, opts.height);
    if (pool->empty())
      throw std::runtime_error("no usable crop in " + opts.crops.string()
                               + " (need *.jpg crops with a clean ~245 grey margin)");
  }
  impl_ = std::make_unique<impl>(opts, std::move(pool));
}

synth_generator::~synth_generator() = default;
synth_generator::synth_generator(synth_generator&&) noexcept = default;
synth_generator& synth_generator::operator=(synth_generator&&) noexcept = default;

const synth_illumination_params& synth_generator::illumination() const {
  return impl_->illum;
}

const cv::Mat1f& synth_generator::luminance() const {
  return impl_->lum;
}

cv::Mat3b synth_generator::frame(int index, synth_frame_truth* truth) const {
  const auto& o = impl_->opts;
  const int w = o.width;
  const int h = o.height;
  prng r(derive(o.seed, tag_frame, static_cast<std::uint64_t>(index)));
  synth_frame_truth ft;
  ft.index = index;
  ft.gain = 1 + flicker_sigma * r.normal();
  const bool dense = index >= o.dense_first && index < o.dense_first + o.dense_count;
  ft.drawn = r.poisson(dense ? o.dense_objects : o.objects);
  // Keep objects apart so that each one stays one segment.
  const int gap = std::max(4, static_cast<int>(std::lround(6 * impl_->scale)));
  std::vector<cv::Rect> taken;
  std::vector<patch> patches;
  if (index >= stuck_from)
    for (const auto& p : impl_->stuck) {
      taken.push_back(p.window);
      patches.push_back(p);
    }
  ft.seam_dropped = place_seam_particles(o, impl_->scale, index, gap, taken, patches);
  for (int i = 0; i < ft.drawn; ++i) {
    std::optional<patch> placed;
    if (impl_->crops) {
      const auto& pool = *impl_->crops;
      const auto last = static_cast<std::int64_t>(pool.size()) - 1;
      const auto& c = pool[static_cast<std::size_t>(r.integer(0, last))];
      const int flip = static_cast<int>(r.integer(0, 3));
      for (int t = 0; t < place_tries && !placed; ++t) {
        auto pos = draw_position(r, c.ratio.cols, c.ratio.rows, w, h);
        cv::Rect win(static_cast<int>(std::floor(pos.x)), static_cast<int>(std::floor(pos.y)),
                     c.ratio.cols, c.ratio.rows);
        if (!collides(win + cv::Size(2 * gap, 2 * gap) - cv::Point(gap, gap), taken))
          placed = render_crop(c, flip, win.x, win.y, w, h);
      }
    } else {
      const shape s = draw_shape(r, impl_->scale, w, h);
      const int ww = 2 * static_cast<int>(std::ceil(s.half_w)) + 2;
      const int wh = 2 * static_cast<int>(std::ceil(s.half_h)) + 2;
      for (int t = 0; t < place_tries && !placed; ++t) {
        auto pos = draw_position(r, ww, wh, w, h);
        const double cx = pos.x + s.half_w;
        const double cy = pos.y + s.half_h;
        // Same rectangle as render_shape's window, plus one px of slack.
        cv::Rect win(static_cast<int>(std::floor(cx - s.half_w)),
                     static_cast<int>(std::floor(cy - s.half_h)), ww, wh);
        if (!collides(win + cv::Size(2 * gap, 2 * gap) - cv::Point(gap, gap), taken))
          placed = render_shape(s, cx, cy, w, h);
      }
    }
    if (!placed || placed->truth.area == 0) {
      ++ft.dropped;
      continue;
    }
    taken.push_back(placed->window);
    patches.push_back(std::move(*placed));
  }
  for (auto& p : patches)
    ft.objects.push_back(p.truth);
  cv::Mat3b img = compose(impl_->lum, impl_->illum.tint_bgr, ft.gain, patches, o.seed, index);
  if (truth != nullptr)
    *truth = std::move(ft);
  return img;
}

} // namespace seg
