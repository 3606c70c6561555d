#include "actors/io/report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "actors/io/report/html_text.hpp"

namespace seg::io::report {

namespace {

// A view box and the drawing area inside it: room left for the y tick
// labels and below for the x ones. The numbers only set the proportions and
// the text's size against them; the SVG scales to its container.
struct view {
  double w, h, left, right, top, bottom;
};
constexpr view square_view{480, 260, 58, 470, 14, 214};
constexpr view wide_view{720, 250, 58, 710, 14, 204};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct axis {
  double lo = 0, hi = 1;
  bool log = false;
  view v = square_view;

  double t(double v) const {
    if (log)
      return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
  double x(double value) const {
    return v.left + t(value) * (v.right - v.left);
  }
  double y(double value) const {
    return v.bottom - t(value) * (v.bottom - v.top);
  }
};

// About five round ticks in [lo, hi].
std::vector<double> linear_ticks(double lo, double hi) {
  double span = hi - lo;
  if (!(span > 0))
    return {lo};
  double step = std::pow(10, std::floor(std::log10(span / 5)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (span / (step * m) <= 6) {
      step *= m;
      break;
    }
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

// Decades in [lo, hi]; with 2 and 5 in each when fewer than 3 decades, and
// every multiple 1..9 when less than one.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> ticks;
  int first = int(std::floor(std::log10(lo))), last = int(std::ceil(std::log10(hi)));
  bool fine = last - first < 3, finest = hi < 10 * lo;
  for (int e = first; e <= last; ++e)
    for (double m : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0}) {
      if (m != 1.0 && !(finest || (fine && (m == 2.0 || m == 5.0))))
        continue;
      double v = m * std::pow(10, e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
        ticks.push_back(v);
    }
  return ticks;
}

// Tick labels: numbers; on a log axis reaching 10⁴ or below 10⁻², powers
// of ten as 10ⁿ and the 2 and 5 ticks between them unlabelled.
std::string tick_label(double v, const axis& a) {
  if (!a.log || (a.hi < 1e4 && a.lo >= 1e-2))
    return short_number(v);
  double e = std::round(std::log10(v));
  if (std::fabs(v - std::pow(10, e)) > 1e-9 * v)
    return "";
  static const char* digits[] = {"\xE2\x81\xB0", "\xC2\xB9", "\xC2\xB2", "\xC2\xB3",
                                 "\xE2\x81\xB4", "\xE2\x81\xB5", "\xE2\x81\xB6",
                                 "\xE2\x81\xB7", "\xE2\x81\xB8", "\xE2\x81\xB9"};
  std::string out = "10";
  if (e < 0)
    out += "\xE2\x81\xBB";
  for (char c : std::to_string(long(std::fabs(e))))
    out += digits[c - '0'];
  return out;
}

std::string open_svg(const std::string& label, const view& v = square_view) {
  return "<svg class=\"plot\" viewBox=\"0 0 " + num(v.w) + " " + num(v.h)
         + "\" role=\"img\" aria-label=\"" + escape_html(label)
         + "\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>" + escape_html(label)
         + "</title>\n";
}

// Grid, ticks and titles of both axes.
std::string frame_of(const axis& ax, const std::vector<double>& xt, const axis& ay,
                     const std::vector<double>& yt, const std::string& x_title,
                     const std::string& y_title) {
  auto [view_w, view_h, left, right, top, bottom] = ax.v;
  (void)view_w;
  std::string s;
  for (double v : yt) {
    auto y = num(ay.y(v));
    s += "<line class=\"grid\" x1=\"" + num(left) + "\" x2=\"" + num(right) + "\" y1=\"" + y
         + "\" y2=\"" + y + "\"/>";
    s += "<text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" + y
         + "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + tick_label(v, ay)
         + "</text>\n";
  }
  for (double v : xt) {
    auto x = num(ax.x(v));
    s += "<line class=\"axis\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + num(bottom)
         + "\" y2=\"" + num(bottom + 5) + "\"/>";
    s += "<text class=\"tick\" x=\"" + x + "\" y=\"" + num(bottom + 18)
         + "\" text-anchor=\"middle\">" + tick_label(v, ax) + "</text>\n";
  }
  s += "<line class=\"axis\" x1=\"" + num(left) + "\" x2=\"" + num(right) + "\" y1=\""
       + num(bottom) + "\" y2=\"" + num(bottom) + "\"/>";
  s += "<line class=\"axis\" x1=\"" + num(left) + "\" x2=\"" + num(left) + "\" y1=\""
       + num(top) + "\" y2=\"" + num(bottom) + "\"/>\n";
  s += "<text class=\"title\" x=\"" + num((left + right) / 2) + "\" y=\"" + num(view_h - 6)
       + "\" text-anchor=\"middle\">" + escape_html(x_title) + "</text>\n";
  s += "<text class=\"title\" transform=\"translate(14 " + num((top + bottom) / 2)
       + ") rotate(-90)\" text-anchor=\"middle\">" + escape_html(y_title) + "</text>\n";
  return s;
}

std::string empty_svg(const std::string& label, const std::string& text) {
  return open_svg(label) + "<text class=\"title\" x=\"" + num(square_view.w / 2) + "\" y=\""
         + num(square_view.h / 2) + "\" text-anchor=\"middle\">" + escape_html(text)
         + "</text></svg>\n";
}

// A log axis over the classes' edges.
axis esd_axis(const std::vector<size_bin>& bins) {
  return axis{bins.front().lo, bins.back().hi, true, square_view};
}

} // namespace

std::string size_counts_svg(const std::vector<size_bin>& bins, const std::string& unit) {
  std::string label = "Objects per size class";
  if (bins.empty())
    return empty_svg(label, "no objects");
  auto ax = esd_axis(bins);
  long most = 0;
  for (auto& b : bins)
    most = std::max(most, b.count);
  auto yt = linear_ticks(0, double(std::max(most, 1L)));
  axis ay{0, std::max(yt.back(), double(most)), false, square_view};
  auto s = open_svg(label)
           + frame_of(ax, log_ticks(ax.lo, ax.hi), ay, yt, "ESD (" + unit + ", log scale)",
                      "objects");
  for (auto& b : bins) {
    if (b.count == 0)
      continue;
    double x0 = ax.x(b.lo) + 0.5, x1 = ax.x(b.hi) - 0.5, y = ay.y(double(b.count));
    s += "<rect class=\"bar\" x=\"" + num(x0) + "\" y=\"" + num(y) + "\" width=\""
         + num(std::max(0.5, x1 - x0)) + "\" height=\"" + num(ay.v.bottom - y) + "\"><title>"
         + short_number(b.lo) + "\xE2\x80\x93" + short_number(b.hi) + " " + escape_html(unit)
         + ": " + std::to_string(b.count) + " objects</title></rect>\n";
  }
  return s + "</svg>\n";
}

std::string nbss_svg(const std::vector<size_bin>& bins, const std::string& unit,
                     const std::string& y_label) {
  std::string label = "Normalised biomass size spectrum";
  std::vector<const size_bin*> shown;
  for (auto& b : bins)
    if (b.count > 0 && b.nbss > 0)
      shown.push_back(&b);
  if (shown.empty())
    return empty_svg(label, "no objects");
  auto ax = esd_axis(bins);
  double lo = shown.front()->nbss, hi = lo;
  for (auto* b : shown) {
    lo = std::min(lo, b->nbss);
    hi = std::max(hi, b->nbss);
  }
  // Whole decades around the points, so the slope reads against the grid.
  axis ay{std::pow(10, std::floor(std::log10(lo))), std::pow(10, std::ceil(std::log10(hi))),
          true, square_view};
  if (ay.hi <= ay.lo)
    ay.hi = ay.lo * 10;
  auto s = open_svg(label)
           + frame_of(ax, log_ticks(ax.lo, ax.hi), ay, log_ticks(ay.lo, ay.hi),
                      "ESD (" + unit + ", log scale)", y_label);
  std::string points;
  for (auto* b : shown)
    points += num(ax.x(std::sqrt(b->lo * b->hi))) + "," + num(ay.y(b->nbss)) + " ";
  s += "<polyline class=\"line\" points=\"" + points + "\"/>\n";
  for (auto* b : shown)
    s += "<circle class=\"dot\" cx=\"" + num(ax.x(std::sqrt(b->lo * b->hi))) + "\" cy=\""
         + num(ay.y(b->nbss)) + "\" r=\"3.5\"><title>" + short_number(b->lo) + "\xE2\x80\x93"
         + short_number(b->hi) + " " + escape_html(unit) + ": NBSS " + short_number(b->nbss)
         + " (" + std::to_string(b->count) + " objects)</title></circle>\n";
  return s + "</svg>\n";
}

std::string frames_svg(const std::vector<report_frame>& frames) {
  std::string label = "Objects per frame along the acquisition";
  if (frames.empty())
    return empty_svg(label, "no frames");
  long most = 0;
  for (auto& f : frames)
    most = std::max(most, f.objects);
  auto n = double(frames.size());
  axis ax{-0.5, n - 0.5, false, wide_view};
  auto yt = linear_ticks(0, double(std::max(most, 1L)));
  axis ay{0, std::max(yt.back(), double(most)), false, wide_view};
  auto [view_w, view_h, left, right, top, bottom] = wide_view;
  (void)view_w;
  (void)view_h;
  auto xt = linear_ticks(0, n - 1);
  xt.erase(std::remove_if(xt.begin(), xt.end(),
                          [](double v) { return v != std::floor(v); }),
           xt.end());
  auto s = open_svg(label, wide_view) + frame_of(ax, xt, ay, yt, "frame (0-based, acquisition order)",
                                      "objects");
  double w = (right - left) / n;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto& f = frames[i];
    double cx = ax.x(double(i));
    auto tip = "<title>" + std::to_string(i) + ": " + escape_html(f.name);
    if (f.new_flat) {
      s += "<line class=\"reflat\" x1=\"" + num(cx - w / 2) + "\" x2=\"" + num(cx - w / 2)
           + "\" y1=\"" + num(top) + "\" y2=\"" + num(bottom) + "\"><title>flat recalculated "
           "from frame " + std::to_string(i) + "</title></line>\n";
    }
    if (f.state == report_frame::outcome::done) {
      double y = ay.y(double(f.objects));
      s += "<rect class=\"bar\" x=\"" + num(cx - w * 0.4) + "\" y=\"" + num(y)
           + "\" width=\"" + num(std::max(0.6, w * 0.8)) + "\" height=\""
           + num(std::max(0.0, bottom - y)) + "\">" + tip + ", " + std::to_string(f.objects)
           + " objects</title></rect>\n";
    } else if (f.state == report_frame::outcome::failed) {
      double r = std::min(6.0, std::max(2.5, w * 0.35)), y = bottom - 8;
      s += "<g class=\"failed\">" + tip + ": failed, " + escape_html(f.reason)
           + "</title><line x1=\"" + num(cx - r) + "\" y1=\"" + num(y - r) + "\" x2=\""
           + num(cx + r) + "\" y2=\"" + num(y + r) + "\"/><line x1=\"" + num(cx - r)
           + "\" y1=\"" + num(y + r) + "\" x2=\"" + num(cx + r) + "\" y2=\"" + num(y - r)
           + "\"/></g>\n";
    }
  }
  return s + "</svg>\n";
}

} // namespace seg::io::report
