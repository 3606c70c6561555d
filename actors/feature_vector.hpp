#pragma once

#include <cstdint>
#include <vector>

#include "actors/io/feature_table.hpp"
#include "kernels/features.hpp"

namespace seg {

/// Number of values in a feature vector: one per feature column.
constexpr std::size_t feature_count = io::detail::feature_count;

/// Flattens features into message form: feature_columns order (the TSV's),
/// each value's IEEE-754 bit pattern (exact, whatever the value).
std::vector<std::uint64_t> to_vector(const kernels::object_features& f);

/// The inverse of to_vector. Throws std::invalid_argument unless
/// v.size() == feature_count.
kernels::object_features from_vector(const std::vector<std::uint64_t>& v);

} // namespace seg
