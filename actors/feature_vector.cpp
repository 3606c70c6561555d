#include "actors/feature_vector.hpp"

#include <cstring>
#include <stdexcept>

namespace seg {

std::vector<std::uint64_t> to_vector(const kernels::object_features& f) {
  std::vector<std::uint64_t> v;
  v.reserve(feature_count);
  for (const auto& column : io::detail::feature_columns) {
    double d = column.int_member != nullptr ? double(f.*column.int_member)
                                            : f.*column.real_member;
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    v.push_back(bits);
  }
  return v;
}

kernels::object_features from_vector(const std::vector<std::uint64_t>& v) {
  if (v.size() != feature_count)
    throw std::invalid_argument("feature vector has " + std::to_string(v.size())
                                + " values, expected "
                                + std::to_string(feature_count));
  kernels::object_features f;
  std::size_t i = 0;
  for (const auto& column : io::detail::feature_columns) {
    double d;
    std::memcpy(&d, &v[i++], sizeof d);
    if (column.int_member != nullptr)
      f.*column.int_member = static_cast<int>(d);
    else
      f.*column.real_member = d;
  }
  return f;
}

} // namespace seg
