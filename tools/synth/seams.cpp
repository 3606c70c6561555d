#include "tools/synth/seams.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "tools/synth/prng.hpp"

namespace seg::detail {

namespace {

constexpr int seam_tries = 40;
constexpr int near_reach = 12; // near_seam: 0..12 px between the object and its seam

// Distinct tile cores of `grid` that hold visible pixels of `p`.
int tiles_touched(const patch& p, cv::Size grid, int w, int h) {
  std::set<std::pair<int, int>> tiles;
  for (int y = 0; y < p.mask.rows; ++y) {
    const int fy = p.window.y + y;
    if (fy < 0 || fy >= h)
      continue;
    for (int x = 0; x < p.mask.cols; ++x) {
      const int fx = p.window.x + x;
      if (p.mask(y, x) && fx >= 0 && fx < w)
        tiles.emplace(fx / grid.width, fy / grid.height);
    }
  }
  return static_cast<int>(tiles.size());
}

// The hole's pixels lie on both sides of column `x` (x > 0) or row `y`.
bool hole_across_x(const cv::Rect& hole, int x) { return hole.x < x && hole.br().x > x; }
bool hole_across_y(const cv::Rect& hole, int y) { return hole.y < y && hole.br().y > y; }

// The frame-space offset of a shape's hole centre from the shape's centre.
cv::Point2d hole_offset(const shape& s) {
  const double ca = std::cos(s.angle);
  const double sa = std::sin(s.angle);
  return {s.hole.u * ca - s.hole.v * sa, s.hole.u * sa + s.hole.v * ca};
}

// One frame's seam particles of one grid.
class grid_placer {
public:
  grid_placer(const synth_options& o, double scale, cv::Size grid, int gap,
              std::vector<cv::Rect>& taken, std::vector<patch>& patches)
    : o_(o), scale_(scale), grid_(grid), gap_(gap), taken_(taken), patches_(patches) {
    for (int x = grid.width; x < o.width; x += grid.width)
      xs_.push_back(x);
    for (int y = grid.height; y < o.height; y += grid.height)
      ys_.push_back(y);
    // Bounded by the tile, so a particle crosses only the seams it is put on.
    bound_ = {std::min(o.width, grid.width), std::min(o.height, grid.height)};
  }

  using prng_source = std::function<std::uint64_t(int)>;

  // Places every case the grid has seams for; returns those that found no place.
  int place_all(const prng_source& streams) {
    int dropped = 0;
    auto run = [&](const char* name, bool possible, auto&& draw) {
      prng r(streams(case_index_++));
      if (possible && !place(name, r, draw))
        ++dropped;
    };
    const bool xs = !xs_.empty(), ys = !ys_.empty();
    run("corner", xs && ys, [&](prng& r) { return corner(r); });
    run("seam_v", xs, [&](prng& r) { return on_seam(r, true); });
    run("seam_h", ys, [&](prng& r) { return on_seam(r, false); });
    run("three_tiles", xs && ys, [&](prng& r) { return three_tiles(r); });
    run("hole_on_seam", xs || ys, [&](prng& r) { return hole_on_seam(r); });
    run("hole_on_corner", xs && ys, [&](prng& r) { return hole_on_corner(r); });
    run("border", xs || ys, [&](prng& r) { return border(r); });
    run("near_seam", xs || ys, [&](prng& r) { return near_seam(r); });
    return dropped;
  }

private:
  // A drawn particle before rendering, and what makes it the case it was
  // drawn for.
  struct plan {
    shape s;
    double cx = 0, cy = 0;
    std::function<bool(const synth_object&)> right;
  };

  template <class Draw>
  bool place(const char* name, prng& r, Draw& draw) {
    for (int t = 0; t < seam_tries; ++t) {
      std::optional<plan> c = draw(r);
      if (!c)
        continue;
      // Collisions first: rendering is the costly part.
      const cv::Rect padded =
        shape_window(c->s, c->cx, c->cy) + cv::Size(2 * gap_, 2 * gap_) - cv::Point(gap_, gap_);
      if (collides(padded, taken_))
        continue;
      patch p = render(c->s, c->cx, c->cy);
      if (p.truth.area == 0 || !c->right(p.truth))
        continue;
      p.truth.seam = name;
      p.truth.seam_grid = grid_;
      taken_.push_back(p.window);
      patches_.push_back(std::move(p));
      return true;
    }
    return false;
  }

  int pick(prng& r, const std::vector<int>& v) const {
    return v[static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(v.size()) - 1))];
  }

  shape draw(prng& r, std::optional<shape_kind> kind = std::nullopt,
             std::optional<double> angle = std::nullopt) const {
    const shape_kind k = kind ? *kind : draw_kind(r);
    return draw_shape(r, k, scale_, bound_.width, bound_.height, angle);
  }

  // A position along a seam that keeps the shape inside the frame.
  double along(prng& r, double half, int length) const {
    return r.uniform(half + 2, std::max(half + 2, length - half - 2));
  }

  patch render(const shape& s, double cx, double cy) const {
    patch p = render_shape(s, cx, cy, o_.width, o_.height);
    p.truth.tiles = tiles_touched(p, grid_, o_.width, o_.height);
    p.truth.hole_bbox = hole_bbox(s, cx, cy);
    return p;
  }

  static std::function<bool(const synth_object&)> tiles_are(int n) {
    return [n](const synth_object& t) { return t.tiles == n; };
  }

  std::optional<plan> corner(prng& r) const {
    const shape s = draw(r);
    const double j = 0.1 * std::min(s.half_w, s.half_h);
    const double cx = pick(r, xs_) + r.uniform(-j, j);
    const double cy = pick(r, ys_) + r.uniform(-j, j);
    return plan{s, cx, cy, tiles_are(4)};
  }

  std::optional<plan> on_seam(prng& r, bool vertical) const {
    const shape s = draw(r);
    const double j = 0.1 * std::min(s.half_w, s.half_h);
    const double cx = vertical ? pick(r, xs_) + r.uniform(-j, j) : along(r, s.half_w, o_.width);
    const double cy = vertical ? along(r, s.half_h, o_.height) : pick(r, ys_) + r.uniform(-j, j);
    return plan{s, cx, cy, tiles_are(2)};
  }

  // A rod along a corner's diagonal, offset from the corner: it crosses both
  // seams but misses the fourth tile.
  std::optional<plan> three_tiles(prng& r) const {
    const double sx = r.uniform() < 0.5 ? -1 : 1;
    const double sy = r.uniform() < 0.5 ? -1 : 1;
    double angle = std::atan2(-sx, sy);
    if (angle < 0)
      angle += pi;
    const shape s = draw(r, shape_kind::rod, angle);
    // The rod's axis passes a / 2 from the corner and goes on a / 2 past
    // both seams.
    const double off = s.a / (2 * std::sqrt(2.0));
    return plan{s, pick(r, xs_) + sx * off, pick(r, ys_) + sy * off, tiles_are(3)};
  }

  std::optional<plan> hole_on_seam(prng& r) const {
    const bool vertical = ys_.empty() || (!xs_.empty() && r.uniform() < 0.5);
    const shape s = draw(r, r.uniform() < 0.5 ? shape_kind::ring : shape_kind::holed_blob);
    const cv::Point2d h = hole_offset(s);
    if (vertical) {
      const int seam = pick(r, xs_);
      return plan{s, seam - h.x, along(r, s.half_h, o_.height), [seam](const synth_object& t) {
                    return t.tiles >= 2 && hole_across_x(t.hole_bbox, seam);
                  }};
    }
    const int seam = pick(r, ys_);
    return plan{s, along(r, s.half_w, o_.width), seam - h.y, [seam](const synth_object& t) {
                  return t.tiles >= 2 && hole_across_y(t.hole_bbox, seam);
                }};
  }

  std::optional<plan> hole_on_corner(prng& r) const {
    const shape s = draw(r, shape_kind::ring);
    const double j = 0.2 * std::min(s.hole.a, s.hole.b);
    const int x = pick(r, xs_), y = pick(r, ys_);
    return plan{s, x + r.uniform(-j, j), y + r.uniform(-j, j), [x, y](const synth_object& t) {
                  return t.tiles == 4 && hole_across_x(t.hole_bbox, x)
                         && hole_across_y(t.hole_bbox, y);
                }};
  }

  // On a seam where it meets the frame's edge: cut by the frame and by the seam.
  std::optional<plan> border(prng& r) const {
    const bool vertical = ys_.empty() || (!xs_.empty() && r.uniform() < 0.5);
    const bool far_edge = r.uniform() < 0.5;
    const shape s = draw(r);
    const double j = 0.1 * std::min(s.half_w, s.half_h);
    double cx = 0, cy = 0;
    if (vertical) {
      cx = pick(r, xs_) + r.uniform(-j, j);
      cy = (far_edge ? o_.height : 0) + r.uniform(-0.3, 0.3) * s.half_h;
    } else {
      cx = (far_edge ? o_.width : 0) + r.uniform(-0.3, 0.3) * s.half_w;
      cy = pick(r, ys_) + r.uniform(-j, j);
    }
    return plan{s, cx, cy,
                [](const synth_object& t) { return t.tiles >= 2 && t.cut_by_frame_edge; }};
  }

  // Whole in one tile but within near_reach px of a seam, on either side:
  // in the halo of the tile beyond, which must not report it.
  std::optional<plan> near_seam(prng& r) const {
    const bool vertical = ys_.empty() || (!xs_.empty() && r.uniform() < 0.5);
    const bool before = r.uniform() < 0.5;
    const int k = static_cast<int>(r.integer(0, near_reach));
    const shape s = draw(r);
    const int seam = pick(r, vertical ? xs_ : ys_);
    double cx = vertical ? seam + (before ? -s.half_w : s.half_w) : along(r, s.half_w, o_.width);
    double cy = vertical ? along(r, s.half_h, o_.height) : seam + (before ? -s.half_h : s.half_h);
    // Shifting the centre by whole pixels shifts the mask exactly: put the
    // object's edge k px from the seam.
    const cv::Rect b = render_shape(s, cx, cy, o_.width, o_.height).truth.full_bbox;
    if (b.area() == 0)
      return std::nullopt;
    const int first = vertical ? b.x : b.y;
    const int last = vertical ? b.br().x - 1 : b.br().y - 1;
    (vertical ? cx : cy) += before ? (seam - 1 - k) - last : (seam + k) - first;
    return plan{s, cx, cy,
                [](const synth_object& t) { return t.tiles == 1 && !t.cut_by_frame_edge; }};
  }

  const synth_options& o_;
  double scale_;
  cv::Size grid_;
  int gap_;
  std::vector<cv::Rect>& taken_;
  std::vector<patch>& patches_;
  std::vector<int> xs_, ys_; // interior seams
  cv::Size bound_;
  int case_index_ = 0;
};

} // namespace

int place_seam_particles(const synth_options& o, double scale, int index, int gap,
                         std::vector<cv::Rect>& taken, std::vector<patch>& patches) {
  int dropped = 0;
  for (std::size_t g = 0; g < o.seam_grids.size(); ++g) {
    grid_placer placer(o, scale, o.seam_grids[g], gap, taken, patches);
    // Every case of every grid and frame has a stream of its own.
    dropped += placer.place_all([&](int c) {
      return derive(o.seed, tag_seam, static_cast<std::uint64_t>(index),
                    g * 16 + static_cast<std::uint64_t>(c));
    });
  }
  return dropped;
}

} // namespace seg::detail
