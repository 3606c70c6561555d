#include "tools/synth/particles.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <optional>

namespace seg::detail {

const char* to_string(shape_kind k) {
  switch (k) {
    case shape_kind::ellipse:
      return "ellipse";
    case shape_kind::rod:
      return "rod";
    case shape_kind::blob:
      return "blob";
    case shape_kind::ring:
      return "ring";
    case shape_kind::holed_blob:
      return "holed_blob";
    case shape_kind::chain:
      return "chain";
  }
  return "?";
}

namespace {

// Signed distance (px, approximate away from the boundary but with the exact
// sign) to an axis-aligned ellipse.
double ellipse_sd(double u, double v, double a, double b) {
  const double g = (u * u) / (a * a) + (v * v) / (b * b);
  const double gu = 2 * u / (a * a);
  const double gv = 2 * v / (b * b);
  const double n = std::sqrt(gu * gu + gv * gv);
  if (n < 1e-12)
    return -std::min(a, b);
  return (g - 1) / n;
}

double blob_sd(const shape& s, double u, double v) {
  const double su = u / s.stretch;
  const double sv = v * s.stretch;
  const double r = std::sqrt(su * su + sv * sv);
  if (r < 1e-9)
    return -s.r0 / s.stretch;
  const double c1 = su / r;
  const double s1 = sv / r;
  // cos/sin of kθ by the angle-addition recurrence, cheaper than atan2 + cos.
  double ck = c1, sk = s1, rad = 1;
  for (int k = 2; k <= 5; ++k) {
    const double cn = ck * c1 - sk * s1;
    const double sn = sk * c1 + ck * s1;
    ck = cn;
    sk = sn;
    rad += ck * s.amp_cos[k - 2] - sk * s.amp_sin[k - 2];
  }
  // Distances in stretched coordinates shrink by at most 1/stretch.
  return (r - s.r0 * rad) / s.stretch;
}

double shape_sd(const shape& s, double u, double v) {
  double d = 0;
  switch (s.kind) {
    case shape_kind::ellipse:
    case shape_kind::rod:
    case shape_kind::ring:
      d = ellipse_sd(u, v, s.a, s.b);
      break;
    case shape_kind::blob:
    case shape_kind::holed_blob:
      d = blob_sd(s, u, v);
      break;
    case shape_kind::chain:
      d = 1e9;
      for (auto& c : s.cells)
        d = std::min(d, ellipse_sd(u - c.u, v - c.v, c.a, c.b));
      break;
  }
  if (s.has_hole)
    d = std::max(d, -ellipse_sd(u - s.hole.u, v - s.hole.v, s.hole.a, s.hole.b));
  return d;
}

float smooth(float t) { return t * t * (3 - 2 * t); }

// Value noise in [0, 1] at local coordinates (u, v).
float texture(const shape& s, double u, double v) {
  float sum = 0;
  for (auto& o : s.tex) {
    const double gx = std::clamp((u + s.extent) / o.cell, 0.0, o.n - 1.001);
    const double gy = std::clamp((v + s.extent) / o.cell, 0.0, o.n - 1.001);
    const int ix = static_cast<int>(gx);
    const int iy = static_cast<int>(gy);
    const float fx = smooth(static_cast<float>(gx - ix));
    const float fy = smooth(static_cast<float>(gy - iy));
    const float* r0 = o.values.data() + iy * o.n + ix;
    const float* r1 = r0 + o.n;
    const float top = r0[0] * (1 - fx) + r0[1] * fx;
    const float bottom = r1[0] * (1 - fx) + r1[1] * fx;
    sum += o.weight * (top * (1 - fy) + bottom * fy);
  }
  return sum;
}

} // namespace

shape_kind draw_kind(prng& r) {
  const double k = r.uniform();
  return k < 0.25   ? shape_kind::ellipse
         : k < 0.35 ? shape_kind::rod
         : k < 0.6  ? shape_kind::blob
         : k < 0.75 ? shape_kind::ring
         : k < 0.9  ? shape_kind::holed_blob
                    : shape_kind::chain;
}

shape draw_shape(prng& r, double scale, int w, int h) {
  const shape_kind kind = draw_kind(r);
  return draw_shape(r, kind, scale, w, h);
}

shape draw_shape(prng& r, shape_kind kind, double scale, int w, int h,
                 std::optional<double> angle) {
  shape s;
  s.kind = kind;
  const bool holed = s.kind == shape_kind::ring || s.kind == shape_kind::holed_blob;
  // Equivalent diameter log-uniform in [16, 90] px at 1014×760 (~87 % pass the
  // segmenter's 20 px size filter), scaled with the frame; shapes with holes
  // at least 30 px so their walls stay a few px thick.
  const double lo = std::max(holed ? 14.0 : 6.0, (holed ? 30.0 : 16.0) * scale);
  const double hi = std::max(lo, 90 * scale);
  double diam = lo * std::exp(r.uniform() * std::log(hi / lo));
  diam = std::min(diam, 0.3 * std::min(w, h));
  const double rad = diam / 2;
  s.angle = r.uniform(0, pi); // drawn even when given: the later draws stay the same
  if (angle)
    s.angle = *angle;
  s.edge_width = std::max(0.8, 0.9 * std::sqrt(scale));
  double reach_u = 0, reach_v = 0, margin = 2 * s.edge_width + 2;
  switch (s.kind) {
    case shape_kind::ellipse:
    case shape_kind::rod:
    case shape_kind::ring: {
      // Rods (needles, diatoms) are thin: aspect 0.05-0.15.
      const double q = s.kind == shape_kind::ring  ? r.uniform(0.6, 1)
                       : s.kind == shape_kind::rod ? r.uniform(0.05, 0.15)
                                                   : r.uniform(0.35, 1);
      s.a = std::min(rad / std::sqrt(q), 0.4 * std::min(w, h));
      s.b = std::max(1.5, rad * std::sqrt(q));
      reach_u = s.a;
      reach_v = s.b;
      if (s.kind == shape_kind::ring) {
        const double f = r.uniform(0.4, 0.6);
        s.has_hole = true;
        s.hole = {0, 0, s.a * f, s.b * f};
      }
      break;
    }
    case shape_kind::blob:
    case shape_kind::holed_blob: {
      const double q = r.uniform(0.5, 1);
      s.stretch = 1 / std::sqrt(q);
      s.r0 = rad;
      // Harmonic amplitudes sum to <= 0.43 (0.26 with a hole), so the radius
      // stays >= 0.57 r0 and the hole keeps a wall.
      const double damp = s.kind == shape_kind::holed_blob ? 0.6 : 1.0;
      const double max_amp[4] = {0.18, 0.12, 0.08, 0.05};
      double sum = 0;
      for (int i = 0; i < 4; ++i) {
        const double amp = damp * r.uniform(0, max_amp[i]);
        const double phase = r.uniform(0, 2 * pi);
        s.amp_cos[i] = amp * std::cos(phase);
        s.amp_sin[i] = amp * std::sin(phase);
        sum += amp;
      }
      reach_u = s.r0 * (1 + sum) * s.stretch;
      reach_v = s.r0 * (1 + sum) / s.stretch;
      // The blob's distance is measured in stretched coordinates, where the
      // soft edge reaches stretch² times further along the long axis.
      margin = 2 * s.edge_width * s.stretch * s.stretch + 2;
      if (s.kind == shape_kind::holed_blob) {
        // Hole placed in stretched coordinates, mapped back to local ones.
        const double ha = r.uniform(0.2, 0.3) * s.r0;
        const double hb = ha * r.uniform(0.7, 1);
        const double off = r.uniform(0, 0.12) * s.r0;
        const double t = r.uniform(0, 2 * pi);
        s.has_hole = true;
        s.hole = {off * std::cos(t) * s.stretch, off * std::sin(t) / s.stretch,
                  ha * s.stretch, hb / s.stretch};
      }
      break;
    }
    case shape_kind::chain: {
      const int n = static_cast<int>(r.integer(3, 5));
      const double rc = 1.05 * rad / std::sqrt(n);
      const double step = 1.7 * rc;
      for (int i = 0; i < n; ++i) {
        cell c;
        c.u = (i - (n - 1) / 2.0) * step;
        c.v = r.uniform(-0.15, 0.15) * rc;
        c.a = rc;
        c.b = rc * r.uniform(0.75, 0.95);
        reach_u = std::max(reach_u, std::abs(c.u) + c.a);
        reach_v = std::max(reach_v, std::abs(c.v) + c.b);
        s.cells.push_back(c);
      }
      break;
    }
  }
  s.extent = std::max(reach_u, reach_v) + margin;
  const double ca = std::abs(std::cos(s.angle));
  const double sa = std::abs(std::sin(s.angle));
  s.half_w = reach_u * ca + reach_v * sa + margin;
  s.half_h = reach_u * sa + reach_v * ca + margin;
  s.base_opacity = r.uniform(0.3, 0.7);
  s.rim_opacity = r.uniform(0.1, 0.3);
  s.rim_width = std::max(1.0, r.uniform(1, 2.5) * scale);
  const double coarse = std::max(3.0, diam / 5);
  const double cells[3] = {coarse, coarse / 2.5, std::max(1.5, 1.5 * scale)};
  const float weights[3] = {0.55f, 0.3f, 0.15f};
  for (int i = 0; i < 3; ++i) {
    auto& o = s.tex[i];
    o.cell = cells[i];
    o.weight = weights[i];
    o.n = static_cast<int>(std::ceil(2 * s.extent / o.cell)) + 2;
    o.values.resize(static_cast<std::size_t>(o.n) * o.n);
    for (auto& t : o.values)
      t = static_cast<float>(r.uniform());
  }
  return s;
}

bool collides(const cv::Rect& r, const std::vector<cv::Rect>& taken) {
  for (auto& t : taken)
    if ((r & t).area() > 0)
      return true;
  return false;
}

void fill_stats(synth_object& t, const cv::Rect& window, const cv::Mat1b& mask, int w, int h,
                double opacity_sum) {
  const cv::Rect frame(0, 0, w, h);
  int min_x = INT32_MAX, min_y = INT32_MAX, max_x = INT32_MIN, max_y = INT32_MIN;
  int vmin_x = INT32_MAX, vmin_y = INT32_MAX, vmax_x = INT32_MIN, vmax_y = INT32_MIN;
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x) {
      if (!mask(y, x))
        continue;
      const int fx = window.x + x;
      const int fy = window.y + y;
      ++t.full_area;
      min_x = std::min(min_x, fx), max_x = std::max(max_x, fx);
      min_y = std::min(min_y, fy), max_y = std::max(max_y, fy);
      if (frame.contains({fx, fy})) {
        ++t.area;
        vmin_x = std::min(vmin_x, fx), vmax_x = std::max(vmax_x, fx);
        vmin_y = std::min(vmin_y, fy), vmax_y = std::max(vmax_y, fy);
      }
    }
  if (t.full_area > 0)
    t.full_bbox = {min_x, min_y, max_x - min_x + 1, max_y - min_y + 1};
  if (t.area > 0)
    t.bbox = {vmin_x, vmin_y, vmax_x - vmin_x + 1, vmax_y - vmin_y + 1};
  t.cut_by_frame_edge = t.area < t.full_area;
  t.opacity = t.full_area > 0 ? std::round(opacity_sum / t.full_area * 1e4) / 1e4 : 0;
}

cv::Rect shape_window(const shape& s, double cx, double cy) {
  const int x0 = static_cast<int>(std::floor(cx - s.half_w));
  const int y0 = static_cast<int>(std::floor(cy - s.half_h));
  const int x1 = static_cast<int>(std::ceil(cx + s.half_w));
  const int y1 = static_cast<int>(std::ceil(cy + s.half_h));
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

patch render_shape(const shape& s, double cx, double cy, int w, int h) {
  patch p;
  p.window = shape_window(s, cx, cy);
  const int x0 = p.window.x;
  const int y0 = p.window.y;
  cv::Mat1f trans(p.window.height, p.window.width, 1.0f);
  cv::Mat1b mask(p.window.height, p.window.width, uchar{0});
  const double ca = std::cos(s.angle);
  const double sa = std::sin(s.angle);
  const double inv_edge = 1 / s.edge_width;
  double opacity_sum = 0;
  for (int y = 0; y < trans.rows; ++y) {
    const double dy = y0 + y - cy;
    for (int x = 0; x < trans.cols; ++x) {
      const double dx = x0 + x - cx;
      const double u = dx * ca + dy * sa;
      const double v = -dx * sa + dy * ca;
      const double d = shape_sd(s, u, v);
      const double cover = std::clamp(0.5 - d * inv_edge, 0.0, 1.0);
      if (cover <= 0)
        continue;
      const double rim = d / s.rim_width;
      double op = s.base_opacity * (0.65 + 0.7 * texture(s, u, v))
                  + s.rim_opacity * std::exp(-rim * rim);
      op = std::clamp(op, 0.02, 0.92);
      trans(y, x) = static_cast<float>(1 - cover * op);
      if (d < 0) {
        mask(y, x) = 1;
        opacity_sum += cover * op;
      }
    }
  }
  p.trans = trans;
  p.mask = mask;
  p.truth.kind = to_string(s.kind);
  p.truth.holes = s.has_hole ? 1 : 0;
  fill_stats(p.truth, p.window, mask, w, h, opacity_sum);
  return p;
}

} // namespace seg::detail

namespace seg::detail {

cv::Rect hole_bbox(const shape& s, double cx, double cy) {
  if (!s.has_hole)
    return {};
  // The hole ellipse's frame-space centre and a box that holds it whatever
  // its angle.
  const double ca = std::cos(s.angle);
  const double sa = std::sin(s.angle);
  const double hx = cx + s.hole.u * ca - s.hole.v * sa;
  const double hy = cy + s.hole.u * sa + s.hole.v * ca;
  const double reach = std::max(s.hole.a, s.hole.b) + 1;
  int min_x = INT_MAX, min_y = INT_MAX, max_x = INT_MIN, max_y = INT_MIN;
  for (int y = static_cast<int>(std::floor(hy - reach)); y <= std::ceil(hy + reach); ++y)
    for (int x = static_cast<int>(std::floor(hx - reach)); x <= std::ceil(hx + reach); ++x) {
      const double dx = x - cx;
      const double dy = y - cy;
      const double u = dx * ca + dy * sa;
      const double v = -dx * sa + dy * ca;
      if (ellipse_sd(u - s.hole.u, v - s.hole.v, s.hole.a, s.hole.b) >= 0)
        continue;
      min_x = std::min(min_x, x), max_x = std::max(max_x, x);
      min_y = std::min(min_y, y), max_y = std::max(max_y, y);
    }
  if (min_x > max_x)
    return {};
  return {min_x, min_y, max_x - min_x + 1, max_y - min_y + 1};
}

} // namespace seg::detail
