#pragma once

#include <vector>

#include "kernels/features.hpp"

namespace seg {

/// Number of values in a feature vector.
constexpr std::size_t feature_count = 34;

/// Flattens features into message form, in TSV column order.
std::vector<double> to_vector(const kernels::object_features& f);

/// The inverse of to_vector. @pre v.size() == feature_count
kernels::object_features from_vector(const std::vector<double>& v);

} // namespace seg
