#include "actors/io/report/size_spectrum.hpp"

#include <algorithm>
#include <cmath>

namespace seg::io::report {

namespace {

constexpr double pi = 3.14159265358979323846;

double sphere_volume(double d) {
  return pi / 6 * d * d * d;
}

double edge(long k) {
  return std::exp2(double(k) / bins_per_octave);
}

// The class of `d`: edge(k) <= d < edge(k + 1), robust to log2 rounding at
// an edge.
long class_of(double d) {
  auto k = long(std::floor(std::log2(d) * bins_per_octave));
  if (edge(k) > d)
    --k;
  else if (edge(k + 1) <= d)
    ++k;
  return k;
}

} // namespace

std::vector<size_bin> size_spectrum(const std::vector<double>& esd,
                                    std::optional<double> litres) {
  std::vector<long> classes;
  for (double d : esd)
    if (std::isfinite(d) && d > 0)
      classes.push_back(class_of(d));
  std::vector<size_bin> bins;
  if (classes.empty())
    return bins;
  auto [lo, hi] = std::minmax_element(classes.begin(), classes.end());
  long first = *lo;
  for (long k = first; k <= *hi; ++k) {
    size_bin b;
    b.lo = edge(k);
    b.hi = edge(k + 1);
    b.bin_width = sphere_volume(b.hi) - sphere_volume(b.lo);
    bins.push_back(b);
  }
  std::size_t i = 0;
  for (double d : esd) {
    if (!(std::isfinite(d) && d > 0))
      continue;
    auto& b = bins[std::size_t(classes[i++] - first)];
    ++b.count;
    b.biovolume += sphere_volume(d);
  }
  for (auto& b : bins)
    b.nbss = b.biovolume / b.bin_width / (litres && *litres > 0 ? *litres : 1.0);
  return bins;
}

} // namespace seg::io::report
