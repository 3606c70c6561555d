#pragma once

// Synthetic particles (ellipses, rods, blobs, rings, holed blobs, chains):
// a shape drawn from a stream, and its transmission rendered over a window
// of the frame with the ground truth of its pixels.

#include <array>
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

#include "tools/synth/prng.hpp"
#include "tools/synth/synth.hpp"

namespace seg::detail {

enum class shape_kind { ellipse, rod, blob, ring, holed_blob, chain };

const char* to_string(shape_kind k);

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

// A particle's transmission over its window, which may extend past the frame.
struct patch {
  cv::Rect window;   // frame coordinates
  cv::Mat trans;     // CV_32FC1 (shapes) or CV_32FC3 (crops), window-sized
  cv::Mat1b mask;    // shapes: the object pixels (holes excluded), window-sized
  synth_object truth;
};

// The kind of a random particle: 25 % ellipses, 10 % rods, 25 % blobs, 15 %
// rings, 15 % holed blobs, 10 % chains.
shape_kind draw_kind(prng& r);

// Draws a shape of equivalent diameter log-uniform in [16, 90] px × `scale`
// (at most 0.3 × min(w, h)), of a random kind.
shape draw_shape(prng& r, double scale, int w, int h);

// Likewise of kind `kind`, at `angle` (radians) if given, else at a random one.
shape draw_shape(prng& r, shape_kind kind, double scale, int w, int h,
                 std::optional<double> angle = std::nullopt);

// The window render_shape gives `s` centred at (cx, cy).
cv::Rect shape_window(const shape& s, double cx, double cy);

// Renders `s` centred at (cx, cy) in a w×h frame.
patch render_shape(const shape& s, double cx, double cy, int w, int h);

// `r` overlaps one of `taken`.
bool collides(const cv::Rect& r, const std::vector<cv::Rect>& taken);

// The pixels inside the hole of `s` centred at (cx, cy), frame coordinates;
// empty without a hole.
cv::Rect hole_bbox(const shape& s, double cx, double cy);

// Fills the hard-mask statistics of `t` from `mask` (window-sized, 0/1).
void fill_stats(synth_object& t, const cv::Rect& window, const cv::Mat1b& mask, int w, int h,
                double opacity_sum);

} // namespace seg::detail
