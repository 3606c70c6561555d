#pragma once

#include <cstdint>
#include <vector>

#include "kernels/features.hpp"

namespace seg {

/// Number of values in a feature vector.
constexpr std::size_t feature_count = 34;

/// Flattens features into message form: TSV column order, each value's
/// IEEE-754 bit pattern (exact, whatever the value).
std::vector<std::uint64_t> to_vector(const kernels::object_features& f);

/// The inverse of to_vector. Throws std::invalid_argument unless
/// v.size() == feature_count.
kernels::object_features from_vector(const std::vector<std::uint64_t>& v);

} // namespace seg
