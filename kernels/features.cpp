#include "kernels/features.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace seg::kernels {
namespace {

// Exact integer sums need more than 64 bits for frame-sized regions
// (n * sum(r^2) reaches ~1e21 on a 12 MP frame).
__extension__ typedef __int128 int128;

constexpr double pi = 3.141592653589793; // np.pi

// Flags in the padded working image.
constexpr std::uint8_t fg_bit = 1;      // region pixel
constexpr std::uint8_t border_bit = 2;  // region pixel removed by a 4-cross erosion
constexpr std::uint8_t outside_bit = 4; // background reachable from the bbox edge (8-conn)

struct point {
  std::int64_t r; // doubled row
  std::int64_t c; // doubled column
};

struct scratch {
  std::vector<std::uint8_t> pad;
  std::vector<int> row_first;
  std::vector<int> row_last;
  std::vector<point> pts;
  std::vector<point> hull;
};

scratch& tls_scratch() {
  thread_local scratch s;
  return s;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { // b > 0
  std::int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { // b > 0
  std::int64_t q = a / b;
  if ((a % b != 0) && (a > 0)) ++q;
  return q;
}

std::int64_t cross(const point& o, const point& a, const point& b) {
  return (a.r - o.r) * (b.c - o.c) - (a.c - o.c) * (b.r - o.r);
}

// Andrew's monotone chain; strict turns only, so no collinear vertices.
void convex_hull(std::vector<point>& pts, std::vector<point>& hull) {
  std::sort(pts.begin(), pts.end(), [](const point& a, const point& b) {
    return a.r < b.r || (a.r == b.r && a.c < b.c);
  });
  pts.erase(std::unique(pts.begin(), pts.end(),
                        [](const point& a, const point& b) { return a.r == b.r && a.c == b.c; }),
            pts.end());
  hull.assign(2 * pts.size(), point{});
  std::size_t k = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (std::size_t i = pts.size() - 1, t = k + 1; i-- > 0;) {
    while (k >= t && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  hull.resize(k - 1);
}

// skimage convex_hull_image pixel count: the hull of every pixel's diamond
// (centre +-0.5 along each axis), then grid_points_in_poly, which counts pixel
// centres inside the polygon or on its boundary (VERTEX/EDGE are truthy).
// Everything is done in doubled integer coordinates, so it is exact.
std::int64_t convex_area(scratch& s, int rows) {
  s.pts.clear();
  for (int r = 0; r < rows; ++r) {
    if (s.row_first[r] < 0) continue;
    for (const std::int64_t c : {std::int64_t{s.row_first[r]}, std::int64_t{s.row_last[r]}}) {
      const std::int64_t rr = 2 * r;
      const std::int64_t cc = 2 * c;
      s.pts.push_back({rr - 1, cc});
      s.pts.push_back({rr + 1, cc});
      s.pts.push_back({rr, cc - 1});
      s.pts.push_back({rr, cc + 1});
    }
  }
  convex_hull(s.pts, s.hull);
  const auto& h = s.hull;
  const std::size_t nv = h.size();
  std::int64_t count = 0;
  for (int r = 0; r < rows; ++r) {
    const std::int64_t y = 2 * std::int64_t{r};
    std::int64_t lo = INT64_MAX; // smallest column c with 2c >= slice start
    std::int64_t hi = INT64_MIN; // largest column c with 2c <= slice end
    for (std::size_t i = 0; i < nv; ++i) {
      const point& p = h[i];
      const point& q = h[(i + 1) % nv];
      if (p.r == y) {
        lo = std::min(lo, ceil_div(p.c, 2));
        hi = std::max(hi, floor_div(p.c, 2));
      }
      if ((p.r < y && q.r > y) || (p.r > y && q.r < y)) {
        // x = p.c + (y - p.r) * (q.c - p.c) / (q.r - p.r), halved for the column.
        std::int64_t num = p.c * (q.r - p.r) + (y - p.r) * (q.c - p.c);
        std::int64_t den = q.r - p.r;
        if (den < 0) {
          num = -num;
          den = -den;
        }
        lo = std::min(lo, ceil_div(num, 2 * den));
        hi = std::max(hi, floor_div(num, 2 * den));
      }
    }
    if (hi >= lo) count += hi - lo + 1;
  }
  return count;
}

// Eigenvalues of [[a, b], [b, c]] as numpy.linalg.eigvalsh gets them from
// LAPACK dsyevd -> dsterf (split tests, then dlae2 on sqrt(b^2)).
std::array<double, 2> eigvalsh_2x2(double a, double b, double c) {
  constexpr double eps = 1.1102230246251565e-16; // dlamch('E')
  constexpr double eps2 = eps * eps;
  if (std::fabs(b) <= std::sqrt(std::fabs(a)) * std::sqrt(std::fabs(c)) * eps) return {a, c};
  const double e2 = b * b;
  if (std::fabs(e2) <= eps2 * std::fabs(a * c)) return {a, c};
  const double bb = std::sqrt(e2);
  // dlae2
  const double sm = a + c;
  const double adf = std::fabs(a - c);
  const double ab = std::fabs(bb + bb);
  const double acmx = std::fabs(a) > std::fabs(c) ? a : c;
  const double acmn = std::fabs(a) > std::fabs(c) ? c : a;
  double rt;
  if (adf > ab) {
    const double t = ab / adf;
    rt = adf * std::sqrt(1.0 + t * t);
  } else if (adf < ab) {
    const double t = adf / ab;
    rt = ab * std::sqrt(1.0 + t * t);
  } else {
    rt = ab * std::sqrt(2.0);
  }
  double rt1;
  double rt2;
  if (sm < 0) {
    rt1 = 0.5 * (sm - rt);
    rt2 = (acmx / rt1) * acmn - (bb / rt1) * bb;
  } else if (sm > 0) {
    rt1 = 0.5 * (sm + rt);
    rt2 = (acmx / rt1) * acmn - (bb / rt1) * bb;
  } else {
    rt1 = 0.5 * rt;
    rt2 = -0.5 * rt;
  }
  return {rt1, rt2};
}

// Population variance from exact integer sums: (n*S2 - S1^2) / n^2.
double exact_variance(std::int64_t n, std::int64_t s1, std::int64_t s2) {
  const int128 num = int128{n} * s2 - int128{s1} * s1;
  return static_cast<double>(num) / (static_cast<double>(n) * static_cast<double>(n));
}

} // namespace

object_features measure_region(const cv::Mat& region, const cv::Mat& corrected_crop,
                               const cv::Rect& bbox) {
  CV_Assert(region.type() == CV_8UC1 && corrected_crop.type() == CV_8UC3);
  CV_Assert(region.size() == corrected_crop.size() && region.size() == bbox.size());
  CV_Assert(!region.empty());

  const int rows = region.rows;
  const int cols = region.cols;
  const int stride = cols + 2;
  scratch& s = tls_scratch();
  s.pad.assign(static_cast<std::size_t>(rows + 2) * stride, 0);
  s.row_first.assign(rows, -1);
  s.row_last.assign(rows, -1);
  std::uint8_t* pad = s.pad.data();

  // Copy into a 1-px zero-padded image and take the raw moments (exact ints).
  std::int64_t n = 0, sr = 0, sc = 0, srr = 0, scc = 0, src = 0;
  for (int r = 0; r < rows; ++r) {
    const std::uint8_t* in = region.ptr<std::uint8_t>(r);
    std::uint8_t* out = pad + (r + 1) * stride + 1;
    std::int64_t cnt = 0, sum_c = 0, sum_cc = 0;
    int first = -1, last = -1;
    for (int c = 0; c < cols; ++c) {
      if (in[c] == 0) continue;
      out[c] = fg_bit;
      ++cnt;
      sum_c += c;
      sum_cc += std::int64_t{c} * c;
      if (first < 0) first = c;
      last = c;
    }
    s.row_first[r] = first;
    s.row_last[r] = last;
    n += cnt;
    sr += cnt * r;
    srr += cnt * r * r;
    sc += sum_c;
    scc += sum_cc;
    src += sum_c * r;
  }
  CV_Assert(n > 0);

  // skimage perimeter(image, 4): border = image - erosion(image, cross,
  // border_value=0); each border pixel is coded 1 + 2*(4-nbr borders) +
  // 10*(diagonal borders) and weighted by code.
  for (int r = 1; r <= rows; ++r) {
    std::uint8_t* p = pad + r * stride;
    for (int c = 1; c <= cols; ++c) {
      if (!(p[c] & fg_bit)) continue;
      const bool interior = (p[c - 1] & fg_bit) && (p[c + 1] & fg_bit) &&
                            (p[c - stride] & fg_bit) && (p[c + stride] & fg_bit);
      if (!interior) p[c] |= border_bit;
    }
  }
  std::array<std::int64_t, 50> hist{};
  for (int r = 1; r <= rows; ++r) {
    const std::uint8_t* p = pad + r * stride;
    for (int c = 1; c <= cols; ++c) {
      if (!(p[c] & border_bit)) continue;
      auto b = [&](int off) { return (p[c + off] & border_bit) ? 1 : 0; };
      const int code = 1 + 2 * (b(-1) + b(1) + b(-stride) + b(stride)) +
                       10 * (b(-stride - 1) + b(-stride + 1) + b(stride - 1) + b(stride + 1));
      ++hist[code];
    }
  }
  std::array<double, 50> weight{};
  for (int k : {5, 7, 15, 17, 25, 27}) weight[k] = 1;
  for (int k : {21, 33}) weight[k] = std::sqrt(2.0);
  for (int k : {13, 23}) weight[k] = (1 + std::sqrt(2.0)) / 2;
  double perimeter = 0;
  for (int k = 0; k < 50; ++k) perimeter += static_cast<double>(hist[k]) * weight[k];

  // skimage euler_number(image, connectivity=2): bit-quad LUT over the
  // zero-padded image; quad code = 1*BR + 2*TR + 4*BL + 8*TL.
  static constexpr std::array<int, 16> euler_coef{0, 0, 0, 0, 0, 0, -1, 0,
                                                  1, 0, 0, 0, 0, 0, -1, 0};
  int euler = 0;
  for (int r = 0; r <= rows; ++r) {
    const std::uint8_t* top = pad + r * stride;
    const std::uint8_t* bot = top + stride;
    for (int c = 0; c <= cols; ++c) {
      const int code = (bot[c + 1] & fg_bit) + 2 * (top[c + 1] & fg_bit) +
                       4 * (bot[c] & fg_bit) + 8 * (top[c] & fg_bit);
      euler += euler_coef[code];
    }
  }

  // scipy binary_fill_holes(image, ones(3,3)): background 8-connected to the
  // bbox edge stays background, every other background pixel is filled. The
  // zero padding ring connects all edge background, so one 8-connected flood
  // from the corner finds it.
  cv::Mat pad_mat(rows + 2, stride, CV_8UC1, pad);
  cv::floodFill(pad_mat, cv::Point(0, 0), cv::Scalar(outside_bit), nullptr, cv::Scalar(),
                cv::Scalar(), 8);
  // A bbox pixel is in skimage's filled_image iff it lacks outside_bit.

  // Colours (HSV over the filled mask) and blur (unmasked Laplacian variance).
  cv::Mat hsv;
  cv::cvtColor(corrected_crop, hsv, cv::COLOR_BGR2HSV);
  std::int64_t n_filled = 0;
  std::array<std::int64_t, 3> c1{}, c2{};
  for (int r = 0; r < rows; ++r) {
    const std::uint8_t* p = pad + (r + 1) * stride + 1;
    const std::uint8_t* h = hsv.ptr<std::uint8_t>(r);
    for (int c = 0; c < cols; ++c) {
      if (p[c] & outside_bit) continue;
      ++n_filled;
      for (int k = 0; k < 3; ++k) {
        const std::int64_t v = h[3 * c + k];
        c1[k] += v;
        c2[k] += v * v;
      }
    }
  }

  // cvtColor allocates a fresh Mat, so the Laplacian's reflected border stays
  // inside the crop even when corrected_crop is a ROI of the frame (as numpy's
  // slice copy does). CV_16S holds the ksize=1 Laplacian of 8-bit input exactly.
  cv::Mat gray, lap;
  cv::cvtColor(corrected_crop, gray, cv::COLOR_BGR2GRAY);
  cv::Laplacian(gray, lap, CV_16S);
  std::int64_t l1 = 0, l2 = 0;
  for (int r = 0; r < rows; ++r) {
    const std::int16_t* l = lap.ptr<std::int16_t>(r);
    for (int c = 0; c < cols; ++c) {
      l1 += l[c];
      l2 += std::int64_t{l[c]} * l[c];
    }
  }
  const std::int64_t n_pix = std::int64_t{rows} * cols;

  // Central moments from exact sums; inertia tensor as skimage builds it.
  const double mu0 = static_cast<double>(n);
  const double mu20 = static_cast<double>(int128{n} * srr - int128{sr} * sr) / mu0;
  const double mu02 = static_cast<double>(int128{n} * scc - int128{sc} * sc) / mu0;
  const double mu11 = static_cast<double>(int128{n} * src - int128{sr} * sc) / mu0;
  const double trace = mu20 + mu02;
  const double ta = (trace - mu20) / mu0; // T[0,0]
  const double tc = (trace - mu02) / mu0; // T[1,1]
  const double tb = -mu11 / mu0;          // T[0,1]
  auto ev = eigvalsh_2x2(ta, tb, tc);
  const double lam1 = std::max(std::max(ev[0], ev[1]), 0.0);
  const double lam2 = std::max(std::min(ev[0], ev[1]), 0.0);

  object_features f;
  f.width = cols;
  f.height = rows;
  f.bx = bbox.x;
  f.by = bbox.y;
  f.area_exc = static_cast<double>(n);
  f.area = static_cast<double>(n_filled);
  f.percent_area = 1.0 - f.area_exc / f.area;
  f.major = 4 * std::sqrt(lam1);
  f.minor = 4 * std::sqrt(lam2);
  f.y = static_cast<double>(sr + n * bbox.y) / mu0;
  f.x = static_cast<double>(sc + n * bbox.x) / mu0;
  f.convex_area = static_cast<double>(convex_area(s, rows));
  f.perimeter = perimeter;
  // IEEE division as numpy does: x/0 -> inf, 0/0 -> nan.
  f.circ = 4 * pi * f.area / (perimeter * perimeter);
  f.elongation = f.major / f.minor;
  f.perim_area_exc = perimeter / f.area_exc;
  f.perim_major = perimeter / f.major;
  f.circex = 4 * pi * f.area_exc / (perimeter * perimeter);
  // skimage's special case for a == c. With exact moments a tie is exact
  // here, while skimage's float moments (SIMD pow, BLAS sums) sometimes miss
  // it and give the opposite sign of +-45 degrees; real objects almost never
  // tie exactly.
  double orientation;
  if (ta - tc == 0) {
    orientation = tb < 0 ? -pi / 4 : pi / 4;
  } else {
    orientation = 0.5 * std::atan2(-2 * tb, tc - ta);
  }
  f.angle = orientation / pi * 180 + 90;
  f.bounding_box_area = static_cast<double>(n_pix);
  f.eccentricity = lam1 == 0 ? 0.0 : std::sqrt(1 - lam2 / lam1);
  f.equivalent_diameter = std::pow(4 * f.area_exc / pi, 0.5);
  f.euler_number = euler;
  f.extent = f.area_exc / f.bounding_box_area;
  f.local_centroid_col = static_cast<double>(sc) / mu0;
  f.local_centroid_row = static_cast<double>(sr) / mu0;
  f.solidity = f.area_exc / f.convex_area;
  f.blur_laplacian = exact_variance(n_pix, l1, l2);
  const double nf = static_cast<double>(n_filled);
  f.mean_hue = static_cast<double>(c1[0]) / nf;
  f.mean_saturation = static_cast<double>(c1[1]) / nf;
  f.mean_value = static_cast<double>(c1[2]) / nf;
  f.std_hue = std::sqrt(exact_variance(n_filled, c1[0], c2[0]));
  f.std_saturation = std::sqrt(exact_variance(n_filled, c1[1], c2[1]));
  f.std_value = std::sqrt(exact_variance(n_filled, c1[2], c2[2]));
  return f;
}

void scale_to_micrometres(object_features& f, double p) {
  CV_Assert(p > 0);
  const double p2 = p * p;
  f.area_exc *= p2;
  f.area *= p2;
  f.major *= p;
  f.minor *= p;
  f.convex_area *= p2;
  f.perimeter *= p;
  f.perim_area_exc *= 1.0 / p;
  f.bounding_box_area *= p2;
  f.equivalent_diameter *= p;
}

} // namespace seg::kernels
