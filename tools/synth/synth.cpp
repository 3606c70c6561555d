#include "tools/synth/synth.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <system_error>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace seg {

namespace {

// -- constants ----------------------------------------------------------------

constexpr double noise_sigma = 1.5;      // grey levels, as compose.py
constexpr double flicker_sigma = 0.002;  // per-frame LED gain, as compose.py
constexpr int jpeg_quality = 93;         // what the imager and compose.py use
constexpr double crop_background = 245;  // grey of the upstream-corrected crops
constexpr double edge_fraction = 0.1;    // particles that straddle a frame edge
constexpr int place_tries = 60;
constexpr int bad_after = 10;            // faulty files sort after this many good frames
constexpr int stuck_from = 10;           // stuck particles appear from this good frame on
constexpr double pi = 3.14159265358979323846;

// Stream tags: every random quantity comes from its own stream, so adding a
// draw in one place does not shift the others.
enum stream_tag : std::uint64_t {
  tag_illumination = 1,
  tag_time = 2,
  tag_metadata = 3,
  tag_frame = 100,
  tag_noise = 101,
  tag_bad = 200,
  tag_half_size = 201,
  tag_stuck = 300,
};

// -- random numbers -----------------------------------------------------------

// splitmix64 (Steele, Lea, Flood 2014): seeds and stream derivation.
std::uint64_t splitmix64(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t derive(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                     std::uint64_t c = 0) {
  std::uint64_t s = seed;
  for (auto x : {a, b, c}) {
    s = splitmix64(s) ^ x;
  }
  return splitmix64(s);
}

// xoshiro256** (Blackman, Vigna 2018) with our own distributions, so the
// output does not depend on the standard library.
class prng {
public:
  explicit prng(std::uint64_t seed) {
    for (auto& x : s_)
      x = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [lo, hi].
  std::int64_t integer(std::int64_t lo, std::int64_t hi) {
    auto n = static_cast<std::uint64_t>(hi - lo) + 1;
    auto m = static_cast<unsigned __int128>(next()) * n;
    return lo + static_cast<std::int64_t>(m >> 64);
  }

  /// Standard normal (Box-Muller, one value per call).
  double normal() {
    double u1 = 1.0 - uniform(); // (0, 1]
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * pi * u2);
  }

  /// Poisson(mean): Knuth's product method below 30, a rounded normal
  /// approximation above (count of particles, exactness is not needed there).
  int poisson(double mean) {
    if (mean <= 0)
      return 0;
    if (mean < 30) {
      const double limit = std::exp(-mean);
      int k = 0;
      double p = uniform();
      while (p > limit) {
        ++k;
        p *= uniform();
      }
      return k;
    }
    return std::max(0, static_cast<int>(std::lround(mean + std::sqrt(mean) * normal())));
  }

private:
  static std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4];
};

// Inverse normal CDF (Acklam's rational approximation, |rel. error| < 1.2e-9).
double inverse_normal_cdf(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                             -2.759285104469687e+02, 1.383577518672690e+02,
                             -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                             -1.556989798598866e+02, 6.680131188771972e+01,
                             -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                             -2.400758277161838e+00, -2.549732539343734e+00,
                             4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                             2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
           / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  if (p < p_low)
    return tail(std::sqrt(-2 * std::log(p)));
  if (p > 1 - p_low)
    return -tail(std::sqrt(-2 * std::log(1 - p)));
  double q = p - 0.5;
  double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
         / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// Sensor noise draws 16 random bits per sample from this table of 65536
// equiprobable normal quantiles: one 64-bit draw serves a pixel's three
// channels, which keeps a 4056×3040 frame's noise at a few tens of ms.
const std::vector<float>& noise_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (std::size_t i = 0; i < t.size(); ++i)
      t[i] = static_cast<float>(noise_sigma * inverse_normal_cdf((i + 0.5) / 65536.0));
    return t;
  }();
  return table;
}

// -- illumination -------------------------------------------------------------

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

// -- synthetic particles ------------------------------------------------------

enum class shape_kind { ellipse, rod, blob, ring, holed_blob, chain };

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

struct cell {
  double u = 0, v = 0, a = 1, b = 1; // centre offset and semi-axes, local coords
};

// A particle in its own frame: u along its main axis, v across, centred at 0.
struct shape {
  shape_kind kind = shape_kind::ellipse;
  double angle = 0;
  double a = 1, b = 1;           // ellipse / ring outer semi-axes
  double stretch = 1;            // blob: u scale (v scale is 1/stretch)
  double r0 = 1;                 // blob: mean radius (in stretched coords)
  double amp_cos[4] = {0, 0, 0, 0}; // blob: harmonics 2..5, amplitude × cos(phase)
  double amp_sin[4] = {0, 0, 0, 0}; //   and amplitude × sin(phase)
  bool has_hole = false;
  cell hole;                     // ring / holed_blob: hole ellipse
  std::vector<cell> cells;       // chain
  double extent = 1;             // max(local half-extents) + edge margin, px
  double half_w = 1, half_h = 1; // window half-sizes in the frame at `angle`, px
  // appearance
  double base_opacity = 0.5;
  double rim_opacity = 0.2;
  double rim_width = 1.5;
  double edge_width = 1;
  struct octave {
    double cell = 4;             // grid spacing, px
    float weight = 1;
    int n = 0;                   // grid is n × n values in [0, 1]
    std::vector<float> values;
  };
  std::array<octave, 3> tex;     // value noise: coarse, medium, fine grain
};

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

shape draw_shape(prng& r, double scale, int w, int h) {
  shape s;
  const double k = r.uniform();
  s.kind = k < 0.25   ? shape_kind::ellipse
           : k < 0.35 ? shape_kind::rod
           : k < 0.6  ? shape_kind::blob
           : k < 0.75 ? shape_kind::ring
           : k < 0.9  ? shape_kind::holed_blob
                      : shape_kind::chain;
  const bool holed = s.kind == shape_kind::ring || s.kind == shape_kind::holed_blob;
  // Equivalent diameter log-uniform in [16, 90] px at 1014×760 (~87 % pass the
  // segmenter's 20 px size filter), scaled with the frame; shapes with holes
  // at least 30 px so their walls stay a few px thick.
  const double lo = std::max(holed ? 14.0 : 6.0, (holed ? 30.0 : 16.0) * scale);
  const double hi = std::max(lo, 90 * scale);
  double diam = lo * std::exp(r.uniform() * std::log(hi / lo));
  diam = std::min(diam, 0.3 * std::min(w, h));
  const double rad = diam / 2;
  s.angle = r.uniform(0, pi);
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

// A particle's transmission over its window, which may extend past the frame.
struct patch {
  cv::Rect window;   // frame coordinates
  cv::Mat trans;     // CV_32FC1 (shapes) or CV_32FC3 (crops), window-sized
  synth_object truth;
};

// Fills the hard-mask statistics of `t` from `mask` (window-sized, 0/1).
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

patch render_shape(const shape& s, double cx, double cy, int w, int h) {
  patch p;
  const int x0 = static_cast<int>(std::floor(cx - s.half_w));
  const int y0 = static_cast<int>(std::floor(cy - s.half_h));
  const int x1 = static_cast<int>(std::ceil(cx + s.half_w));
  const int y1 = static_cast<int>(std::ceil(cy + s.half_h));
  p.window = {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
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
  p.truth.kind = to_string(s.kind);
  p.truth.holes = s.has_hole ? 1 : 0;
  fill_stats(p.truth, p.window, mask, w, h, opacity_sum);
  return p;
}

// -- real crops ---------------------------------------------------------------

struct crop_item {
  std::string name;
  cv::Mat3f ratio; // crop / 245: a transmission map, ~1 in the margin
  cv::Mat1b mask;  // object pixels: grey < 0.9 × 245
};

using crop_pool = std::vector<crop_item>;

bool is_jpeg_name(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".jpg" || ext == ".jpeg";
}

std::vector<fs::path> list_jpegs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec) && is_jpeg_name(it->path()))
      out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<const crop_pool> load_crops(const fs::path& dir, int w, int h) {
  auto pool = std::make_shared<crop_pool>();
  // Pasted at their own size (as compose.py does for the 1014×760 dev set),
  // so that most pass the segmenter's size filter; shrunk only for frames
  // smaller than 1014×760.
  const double scale = std::min(1.0, std::sqrt(static_cast<double>(w) * h / (1014.0 * 760.0)));
  for (auto& file : list_jpegs(dir)) {
    cv::Mat img = cv::imread(file.string(), cv::IMREAD_COLOR);
    if (img.empty() || img.rows < 8 || img.cols < 8)
      continue;
    cv::Mat grey;
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    // Skip crops whose 3-px border is not clean background (a cut neighbour):
    // pasted, they would show a hard edge (same rule as compose.py).
    std::vector<uchar> ring;
    for (int y = 0; y < grey.rows; ++y)
      for (int x = 0; x < grey.cols; ++x)
        if (y < 3 || x < 3 || y >= grey.rows - 3 || x >= grey.cols - 3)
          ring.push_back(grey.at<uchar>(y, x));
    auto nth = ring.begin() + static_cast<std::ptrdiff_t>(ring.size() / 20);
    std::nth_element(ring.begin(), nth, ring.end());
    if (*nth < 235)
      continue;
    if (scale != 1.0) {
      cv::Mat small;
      cv::resize(img, small, cv::Size(), scale, scale,
                 scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
      img = small;
      cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    }
    if (img.cols > w / 3 || img.rows > h / 3 || img.cols < 3 || img.rows < 3)
      continue;
    crop_item item;
    item.name = file.filename().string();
    img.convertTo(item.ratio, CV_32FC3, 1.0 / crop_background);
    cv::compare(grey, 0.9 * crop_background, item.mask, cv::CMP_LT);
    item.mask /= 255;
    if (cv::countNonZero(item.mask) == 0)
      continue;
    pool->push_back(std::move(item));
  }
  return pool;
}

patch render_crop(const crop_item& c, int flip, int x, int y, int w, int h) {
  static const char* const flips[] = {"none", "h", "v", "hv"};
  patch p;
  p.window = {x, y, c.ratio.cols, c.ratio.rows};
  cv::Mat3f ratio;
  cv::Mat1b mask;
  if (flip == 0) {
    ratio = c.ratio; // shared, read only
    mask = c.mask;
  } else {
    const int code = flip == 1 ? 1 : flip == 2 ? 0 : -1;
    cv::flip(c.ratio, ratio, code);
    cv::flip(c.mask, mask, code);
  }
  double opacity_sum = 0;
  for (int yy = 0; yy < mask.rows; ++yy)
    for (int xx = 0; xx < mask.cols; ++xx)
      if (mask(yy, xx)) {
        const cv::Vec3f& t = ratio(yy, xx);
        opacity_sum += 1 - (t[0] + t[1] + t[2]) / 3;
      }
  p.trans = ratio;
  p.truth.kind = "crop";
  p.truth.crop = c.name;
  p.truth.flip = flips[flip];
  p.truth.paste_rect = p.window;
  fill_stats(p.truth, p.window, mask, w, h, opacity_sum);
  return p;
}

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

bool collides(const cv::Rect& r, const std::vector<cv::Rect>& taken) {
  for (auto& t : taken)
    if ((r & t).area() > 0)
      return true;
  return false;
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

// -- validation and naming ----------------------------------------------------

std::string validate(const synth_options& o) {
  if (o.out.empty())
    return "--out is required (the data root to write into)";
  if (o.frames < 1 || o.frames > 100000)
    return "--frames must be in [1, 100000], got " + std::to_string(o.frames);
  if (o.width < 64 || o.width > 16384)
    return "--width must be in [64, 16384], got " + std::to_string(o.width);
  if (o.height < 64 || o.height > 16384)
    return "--height must be in [64, 16384], got " + std::to_string(o.height);
  if (o.objects < 0 || o.objects > 10000)
    return "--objects must be in [0, 10000], got " + std::to_string(o.objects);
  if (o.stuck < 0 || o.stuck > 100)
    return "--stuck must be in [0, 100], got " + std::to_string(o.stuck);
  if (o.dense_count < 0 || o.dense_first < 0 || o.dense_objects < 0 || o.dense_objects > 10000)
    return "--dense FIRST:COUNT:K needs FIRST >= 0, COUNT >= 0 and K in [0, 10000]";
  if (!o.crops.empty()) {
    std::error_code ec;
    if (!fs::is_directory(o.crops, ec))
      return "--crops " + o.crops.string() + " is not a folder";
    if (list_jpegs(o.crops).empty())
      return "--crops " + o.crops.string() + " holds no *.jpg file";
  }
  return {};
}

std::string synth_acq_id(const synth_options& o) {
  std::string id = "synth-" + std::to_string(o.seed) + "-" + std::to_string(o.frames) + "f-"
                   + std::to_string(o.width) + "x" + std::to_string(o.height) + "-k"
                   + std::to_string(o.objects);
  if (!o.crops.empty())
    id += "-crops";
  if (o.bad)
    id += "-bad";
  if (o.stuck > 0)
    id += "-s" + std::to_string(o.stuck);
  if (o.dense_count > 0)
    id += "-d" + std::to_string(o.dense_first) + "+" + std::to_string(o.dense_count) + "k"
          + std::to_string(o.dense_objects);
  return id;
}

namespace {

// -- time ---------------------------------------------------------------------

// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5
                       + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct stamp {
  int year, month, day, hour, minute, second, micro;
};

stamp to_stamp(std::int64_t us) {
  stamp s{};
  const std::int64_t secs = us / 1000000;
  s.micro = static_cast<int>(us % 1000000);
  civil_from_days(secs / 86400, s.year, s.month, s.day);
  const auto sod = static_cast<int>(secs % 86400);
  s.hour = sod / 3600;
  s.minute = sod / 60 % 60;
  s.second = sod % 60;
  return s;
}

std::string frame_name(const stamp& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d_%02d-%02d-%02d-%06d.jpg", s.year, s.month,
                s.day, s.hour, s.minute, s.second, s.micro);
  return buf;
}

// -- hashing (integrity.check) ------------------------------------------------

// SHA-1 (FIPS 180-4), for the imager's integrity file; not a security use.
class sha1 {
public:
  void update(const void* data, std::size_t n) {
    auto p = static_cast<const std::uint8_t*>(data);
    total_ += n;
    while (n > 0) {
      const std::size_t k = std::min(n, std::size_t{64} - fill_);
      std::memcpy(buf_ + fill_, p, k);
      fill_ += k, p += k, n -= k;
      if (fill_ == 64) {
        block(buf_);
        fill_ = 0;
      }
    }
  }

  std::string hex() {
    const std::uint64_t bits = total_ * 8;
    const std::uint8_t pad = 0x80;
    update(&pad, 1);
    const std::uint8_t zero = 0;
    while (fill_ != 56)
      update(&zero, 1);
    std::uint8_t len[8];
    for (int i = 0; i < 8; ++i)
      len[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    update(len, 8);
    char out[41];
    for (int i = 0; i < 5; ++i)
      std::snprintf(out + 8 * i, 9, "%08x", h_[i]);
    return std::string(out, 40);
  }

private:
  static std::uint32_t rotl(std::uint32_t x, int k) {
    return (x << k) | (x >> (32 - k));
  }
  void block(const std::uint8_t* b) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = std::uint32_t{b[4 * i]} << 24 | std::uint32_t{b[4 * i + 1]} << 16
             | std::uint32_t{b[4 * i + 2]} << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; ++i)
      w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20)
        f = (bb & c) | (~bb & d), k = 0x5A827999;
      else if (i < 40)
        f = bb ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60)
        f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDC;
      else
        f = bb ^ c ^ d, k = 0xCA62C1D6;
      const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rotl(bb, 30), bb = a, a = t;
    }
    h_[0] += a, h_[1] += bb, h_[2] += c, h_[3] += d, h_[4] += e;
  }

  std::uint32_t h_[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::uint8_t buf_[64] = {};
  std::size_t fill_ = 0;
  std::uint64_t total_ = 0;
};

// One line of the upstream integrity file: name,size,sha1(name NUL data).
std::string integrity_line(const std::string& name, const std::vector<uchar>& data) {
  sha1 h;
  h.update(name.data(), name.size());
  const char nul = 0;
  h.update(&nul, 1);
  h.update(data.data(), data.size());
  return name + "," + std::to_string(data.size()) + "," + h.hex() + "\n";
}

// -- files --------------------------------------------------------------------

// Writes to a hidden temporary name in the same folder, then renames, so a
// crash never leaves a partial file under the final name (and the temporary
// name does not end in "jpg", so no segmenter picks it up).
void write_atomic(const fs::path& path, const void* data, std::size_t n) {
  const fs::path tmp
    = path.parent_path()
      / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (f)
      f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    f.close();
    if (!f) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot rename " + tmp.string() + " to " + path.string() + ": "
                             + ec.message());
  }
}

void write_atomic(const fs::path& path, const std::string& text) {
  write_atomic(path, text.data(), text.size());
}

std::vector<uchar> encode_jpeg(const cv::Mat& img) {
  std::vector<uchar> buf;
  const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality,
                                   cv::IMWRITE_JPEG_OPTIMIZE, 0,
                                   cv::IMWRITE_JPEG_PROGRESSIVE, 0};
  if (!cv::imencode(".jpg", img, buf, params))
    throw std::runtime_error("JPEG encoding failed");
  return buf;
}

// End of the SOS header (first entropy-coded byte), or 0 if not found.
std::size_t scan_start(const std::vector<uchar>& jpg) {
  std::size_t i = 2;
  while (i + 4 <= jpg.size() && jpg[i] == 0xFF) {
    const std::size_t len = std::size_t{jpg[i + 2]} << 8 | jpg[i + 3];
    if (jpg[i + 1] == 0xDA)
      return i + 2 + len;
    i += 2 + len;
  }
  return 0;
}

std::string uuid4(prng& r) {
  std::uint8_t b[16];
  for (int i = 0; i < 16; i += 8) {
    const std::uint64_t x = r.next();
    for (int j = 0; j < 8; ++j)
      b[i + j] = static_cast<std::uint8_t>(x >> (8 * j));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15]);
  return out;
}

// Key names, order and JSON types of the imager's metadata.json as in the
// composed data sets (real v2024 metadata).
json make_metadata(const synth_options& o, const std::string& sample_id,
                   const std::string& acq_id, const stamp& start, int n_files) {
  char date[16], hm[8], local[32];
  std::snprintf(date, sizeof date, "%04d%02d%02d", start.year, start.month, start.day);
  std::snprintf(hm, sizeof hm, "%02d%02d", start.hour, start.minute);
  std::snprintf(local, sizeof local, "%04d-%02d-%02dT%02d:%02d:%02d", start.year, start.month,
                start.day, start.hour, start.minute, start.second);
  prng r(derive(o.seed, tag_metadata));
  json m;
  m["sample_project"] = "segflow-synth";
  m["sample_id"] = sample_id;
  m["sample_ship"] = "";
  m["sample_operator"] = "segflow synth";
  m["sample_sampling_gear"] = "net";
  m["acq_id"] = acq_id;
  m["acq_instrument"] = "PlanktoScope v2.6";
  m["acq_instrument_id"] = "synth-planktoscope-0001";
  m["acq_celltype"] = 300;
  m["acq_minimum_mesh"] = 20;
  m["acq_maximum_mesh"] = 200;
  m["acq_volume"] = "5.00";
  m["acq_imaged_volume"] = "2.0807";
  m["acq_magnification"] = 1.2;
  m["acq_fnumber_objective"] = 12;
  m["acq_camera"] = "HQ Camera";
  m["acq_nb_frame"] = n_files;
  m["acq_software"] = "PlanktoScope v2024.0.0-beta.1";
  m["object_date"] = date;
  m["object_time"] = hm;
  m["object_lat"] = "36.9579";
  m["object_lon"] = "-122.0178";
  m["object_depth_min"] = 1;
  m["object_depth_max"] = 10;
  m["process_pixel"] = 0.75;
  m["process_source"] = "github.com/PlanktoScope/PlanktoScope";
  m["process_commit"] = "bdaaab2b8ad80b31974de4653311ca161abacf76";
  m["sample_gear_net_opening"] = 40;
  m["object_date_end"] = date;
  m["object_time_end"] = hm;
  m["object_lat_end"] = "36.9579";
  m["object_lon_end"] = "-122.0178";
  m["acq_local_datetime"] = local;
  m["acq_camera_resolution"] = std::to_string(o.width) + "x" + std::to_string(o.height);
  m["acq_camera_iso"] = 346;
  m["acq_camera_shutter_speed"] = 144;
  m["acq_uuid"] = uuid4(r);
  m["sample_uuid"] = uuid4(r);
  return m;
}

json rect_json(const cv::Rect& r) {
  return json::array({r.x, r.y, r.width, r.height});
}

json object_json(const synth_object& t) {
  json j;
  j["kind"] = t.kind;
  j["bbox"] = rect_json(t.bbox);
  j["full_bbox"] = rect_json(t.full_bbox);
  j["cut_by_frame_edge"] = t.cut_by_frame_edge;
  j["area"] = t.area;
  j["full_area"] = t.full_area;
  j["holes"] = t.holes;
  j["opacity"] = t.opacity;
  if (t.stuck)
    j["stuck"] = true;
  if (t.kind == "crop") {
    j["crop"] = t.crop;
    j["flip"] = t.flip;
    j["paste_rect"] = rect_json(t.paste_rect);
  }
  return j;
}

json objects_json(const std::vector<synth_object>& objs) {
  json a = json::array();
  for (auto& t : objs)
    a.push_back(object_json(t));
  return a;
}

json illumination_json(const synth_illumination_params& p, const cv::Mat1f& lum) {
  json j;
  j["model"] = "lum = centre_level * (1 - vignette_a r^2 - vignette_b r^4) * "
               "(1 + gradient[0] (2x/w - 1) + gradient[1] (2y/h - 1)) * prod_dust (1 - depth "
               "profile); r^2 = ((x - axis[0])^2 + (y - axis[1])^2) / ((w/2)^2 + (h/2)^2); "
               "pixel (x, y) at integer coordinates; speck profile exp(-d^2 / (2 radius^2)), "
               "ring profile exp(-(d - radius)^2 / (2 (0.18 radius)^2)), both applied within "
               "4 radius + 4 px; channel c = lum * tint_bgr[c]";
  j["centre_level"] = p.centre_level;
  j["axis"] = {p.axis_x, p.axis_y};
  j["vignette_a"] = p.vignette_a;
  j["vignette_b"] = p.vignette_b;
  j["gradient"] = {p.gradient_x, p.gradient_y};
  j["tint_bgr"] = {p.tint_bgr[0], p.tint_bgr[1], p.tint_bgr[2]};
  json dust = json::array();
  for (auto& d : p.dust)
    dust.push_back(
      {{"x", d.x}, {"y", d.y}, {"radius", d.radius}, {"depth", d.depth}, {"ring", d.ring}});
  j["dust"] = dust;
  double lo = 0, hi = 0;
  cv::minMaxLoc(lum, &lo, &hi);
  j["lum_min"] = lo;
  j["lum_mean"] = cv::mean(lum)[0];
  j["lum_max"] = hi;
  return j;
}

json options_json(const synth_options& o) {
  json j;
  j["frames"] = o.frames;
  j["width"] = o.width;
  j["height"] = o.height;
  j["objects"] = o.objects;
  j["seed"] = o.seed;
  j["crops"] = o.crops.string();
  j["bad"] = o.bad;
  if (o.stuck > 0) // absent when 0, so earlier ground truths still match
    j["stuck"] = o.stuck;
  if (o.dense_count > 0) // only when used: earlier ground truths stay equal
    j["dense"] = {{"first", o.dense_first}, {"count", o.dense_count},
                  {"objects", o.dense_objects}};
  return j;
}

bool has_jpegs(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && !list_jpegs(dir).empty();
}

// One file of the acquisition in sorted (= time) order.
struct entry {
  std::string name;
  int good = -1; // good frame index, or -1
  int fault = -1; // fault index, or -1
};

} // namespace

// -- acquisition --------------------------------------------------------------

synth_result generate_acquisition(const synth_options& o) {
  if (auto err = validate(o); !err.empty())
    throw std::invalid_argument(err);

  // Start time: 2025-06-01 + (seed mod 200) days, 08:00-17:59, then ~2 s
  // (± 0.25 s) per file, microseconds varying.
  prng tr(derive(o.seed, tag_time));
  std::int64_t t_us = (days_from_civil(2025, 6, 1) + static_cast<std::int64_t>(o.seed % 200))
                        * 86400 * 1000000;
  t_us += (8 * 3600 + tr.integer(0, 599) * 60) * std::int64_t{1000000} + tr.integer(0, 999999);
  const stamp start = to_stamp(t_us);

  // File order: good frames, the faults interleaved after the first 10.
  static const char* const faults[] = {"truncated_jpeg", "zero_byte", "not_a_jpeg",
                                       "one_by_one", "different_size"};
  constexpr int n_faults = 5;
  std::vector<entry> files;
  const int first = o.bad ? std::min(bad_after, o.frames) : o.frames;
  for (int i = 0; i < first; ++i)
    files.push_back({"", i, -1});
  if (o.bad) {
    int next_good = first;
    for (int j = 0; j < n_faults; ++j) {
      files.push_back({"", -1, j});
      if (next_good < o.frames)
        files.push_back({"", next_good++, -1});
    }
    while (next_good < o.frames)
      files.push_back({"", next_good++, -1});
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i > 0)
      t_us += 2000000 + tr.integer(-250000, 250000);
    files[i].name = frame_name(to_stamp(t_us));
  }

  const std::string sample_id = "synth-" + std::to_string(o.seed);
  const std::string acq_id = synth_acq_id(o);
  char date[16];
  std::snprintf(date, sizeof date, "%04d%02d%02d", start.year, start.month, start.day);
  const fs::path rel = fs::path("img") / date / sample_id / acq_id;
  const fs::path acq = o.out / rel;
  const fs::path gt_path = o.out / "ground_truth.json";
  const json options = options_json(o);

  if (has_jpegs(acq)) {
    bool same = false;
    std::ifstream f(gt_path);
    if (f) {
      json old = json::parse(f, nullptr, false);
      same = !old.is_discarded() && old.is_object() && old.value("options", json()) == options
             && old.value("acquisition_dir", std::string()) == rel.generic_string();
    }
    if (!same)
      throw synth_conflict(acq.string() + " already holds frames that "
                           + gt_path.string()
                           + " does not describe with the same options; remove it or "
                             "choose another --out");
  }
  std::error_code ec;
  fs::create_directories(acq, ec);
  if (ec)
    throw std::runtime_error("cannot create " + acq.string() + ": " + ec.message());

  synth_result res;
  res.acquisition_dir = acq;
  res.ground_truth = gt_path;
  res.truth.resize(static_cast<std::size_t>(o.frames));

  synth_generator gen(o);
  std::string integrity;
  json bad = json::array();
  json frames_json = json::array();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& e = files[i];
    const fs::path path = acq / e.name;
    if (e.good >= 0) {
      auto& ft = res.truth[static_cast<std::size_t>(e.good)];
      const auto data = encode_jpeg(gen.frame(e.good, &ft));
      write_atomic(path, data.data(), data.size());
      integrity += integrity_line(e.name, data);
      res.frames.push_back(path);
      res.total_objects += static_cast<int>(ft.objects.size());
      json j;
      j["file"] = e.name;
      j["sorted_index"] = i;
      j["index"] = ft.index;
      j["gain"] = ft.gain;
      j["drawn"] = ft.drawn;
      j["dropped"] = ft.dropped;
      j["objects"] = objects_json(ft.objects);
      frames_json.push_back(std::move(j));
      continue;
    }
    prng br(derive(o.seed, tag_bad, static_cast<std::uint64_t>(e.fault)));
    json j;
    j["file"] = e.name;
    j["sorted_index"] = i;
    j["fault"] = faults[e.fault];
    std::vector<uchar> data;
    std::vector<uchar> recorded; // what integrity.check records (the intact file)
    switch (e.fault) {
      case 0: { // an extra good frame, cut after its headers
        synth_frame_truth ft;
        recorded = encode_jpeg(gen.frame(o.frames, &ft));
        std::size_t cut = recorded.size() * 55 / 100;
        cut = std::clamp(cut, scan_start(recorded) + 16, recorded.size() - 2);
        data.assign(recorded.begin(), recorded.begin() + static_cast<std::ptrdiff_t>(cut));
        j["detail"] = "frame " + std::to_string(o.frames) + " cut to "
                      + std::to_string(data.size()) + " of " + std::to_string(recorded.size())
                      + " bytes (headers intact, no EOI); integrity.check records the "
                        "intact file";
        j["width"] = o.width;
        j["height"] = o.height;
        j["objects"] = objects_json(ft.objects);
        break;
      }
      case 1:
        j["detail"] = "empty file";
        break;
      case 2: {
        const std::string text = "This is not a JPEG file: segflow synth fault injection.\n";
        data.assign(text.begin(), text.end());
        for (int k = 0; k < 4096; ++k)
          data.push_back(static_cast<uchar>(br.next() >> 56));
        j["detail"] = "text + 4096 random bytes, named .jpg";
        break;
      }
      case 3:
        data = encode_jpeg(cv::Mat3b(1, 1, cv::Vec3b(200, 200, 200)));
        j["detail"] = "valid 1x1 JPEG, BGR (200, 200, 200)";
        j["width"] = 1;
        j["height"] = 1;
        break;
      default: {
        synth_options half = o;
        half.width = o.width / 2;
        half.height = o.height / 2;
        half.objects = std::max(1, o.objects / 4);
        half.seed = derive(o.seed, tag_half_size);
        synth_frame_truth ft;
        data = encode_jpeg(synth_generator(half).frame(0, &ft));
        j["detail"] = "valid frame of a different size: " + std::to_string(half.width) + "x"
                      + std::to_string(half.height) + " (own illumination and objects)";
        j["width"] = half.width;
        j["height"] = half.height;
        j["objects"] = objects_json(ft.objects);
        break;
      }
    }
    if (recorded.empty())
      recorded = data;
    write_atomic(path, data.data(), data.size());
    integrity += integrity_line(e.name, recorded);
    res.bad_files.push_back(path);
    j["size_bytes"] = data.size();
    bad.push_back(std::move(j));
  }

  // metadata.json last: only then is the folder an acquisition (§1.4 of the
  // spec: folders without metadata.json are skipped).
  const std::string meta
    = make_metadata(o, sample_id, acq_id, start, static_cast<int>(files.size())).dump(4);
  const std::vector<uchar> meta_bytes(meta.begin(), meta.end());
  write_atomic(acq / "integrity.check",
               "# planktoscope integrity file, see https://www.planktoscope.org\n"
               "# filename,size,sha1\n"
                 + integrity_line("metadata.json", meta_bytes) + integrity);
  write_atomic(acq / "metadata.json", meta);

  json gt;
  gt["generator"] = "segflow synth";
  gt["format_version"] = 1;
  gt["options"] = options;
  gt["acquisition_dir"] = rel.generic_string();
  gt["width"] = o.width;
  gt["height"] = o.height;
  gt["seed"] = o.seed;
  gt["object_count"] = "Poisson(options.objects) drawn per frame; drawn particles that find "
                       "no free place are dropped";
  gt["noise_sigma"] = noise_sigma;
  gt["flicker_sigma"] = flicker_sigma;
  gt["jpeg_quality"] = jpeg_quality;
  gt["illumination"] = illumination_json(gen.illumination(), gen.luminance());
  gt["notes"] = "frame = illumination * gain * prod(particle transmission) "
                "+ N(0, noise_sigma^2), rounded, clipped to [1, 255], BGR JPEG. Rectangles "
                "are [x, y, w, h] in frame px. Object pixels: inside the shape (synthetic) or "
                "grey < 0.9 * 245 (crops), holes excluded. bbox/area: object pixels inside "
                "the frame; full_bbox/full_area: including those outside. opacity: mean "
                "1 - transmission over the object pixels. paste_rect (crops): the pasted "
                "crop. Objects are kept a few px apart. sorted_index: position among the "
                "folder's .jpg files in name (= time) order. drawn: Poisson draw; dropped: "
                "drawn objects that found no free place.";
  gt["total_objects"] = res.total_objects;
  gt["frames"] = std::move(frames_json);
  gt["bad"] = std::move(bad);
  write_atomic(gt_path, gt.dump(1) + "\n");
  return res;
}

} // namespace seg
