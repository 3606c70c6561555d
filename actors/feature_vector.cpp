#include "actors/feature_vector.hpp"

#include <cstring>
#include <stdexcept>

namespace seg {

namespace {

// One field list serves both directions.
template <class F, class Features>
void fields(Features& f, F&& visit) {
  visit(f.width), visit(f.height), visit(f.bx), visit(f.by), visit(f.circ),
    visit(f.area_exc), visit(f.area), visit(f.percent_area), visit(f.major),
    visit(f.minor), visit(f.y), visit(f.x), visit(f.convex_area), visit(f.perimeter),
    visit(f.elongation), visit(f.perim_area_exc), visit(f.perim_major), visit(f.circex),
    visit(f.angle), visit(f.bounding_box_area), visit(f.eccentricity),
    visit(f.equivalent_diameter), visit(f.euler_number), visit(f.extent),
    visit(f.local_centroid_col), visit(f.local_centroid_row), visit(f.solidity),
    visit(f.blur_laplacian), visit(f.mean_hue), visit(f.mean_saturation),
    visit(f.mean_value), visit(f.std_hue), visit(f.std_saturation),
    visit(f.std_value);
}

} // namespace

std::vector<std::uint64_t> to_vector(const kernels::object_features& f) {
  std::vector<std::uint64_t> v;
  v.reserve(feature_count);
  fields(f, [&](const auto& x) {
    auto d = double(x);
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    v.push_back(bits);
  });
  return v;
}

kernels::object_features from_vector(const std::vector<std::uint64_t>& v) {
  if (v.size() != feature_count)
    throw std::invalid_argument("feature vector has " + std::to_string(v.size())
                                + " values, expected "
                                + std::to_string(feature_count));
  kernels::object_features f;
  std::size_t i = 0;
  fields(f, [&](auto& x) {
    double d;
    std::memcpy(&d, &v[i++], sizeof d);
    x = static_cast<std::decay_t<decltype(x)>>(d);
  });
  return f;
}

} // namespace seg
