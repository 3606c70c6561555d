#pragma once

#include <cstddef>

#include "kernels/features.hpp"

// The one list of per-object features, shared by the TSV writer, the
// per-frame record and the feature vectors of frame results, so they can
// never disagree. Not for use outside actors/.
namespace seg::io::detail {

/// How a feature's value is printed in the TSV.
enum class feature_kind {
  int_value,      ///< always an int (a Python int in the reference)
  area_or_length, ///< an int in pixels (the reference), a float once scaled to µm
  real_value,     ///< always a float
};

/// One feature: its TSV column, its record key and where it is stored.
struct feature_column {
  const char* tsv_name;                         ///< column name in the EcoTaxa TSV
  const char* key;                              ///< key in the per-frame record
  feature_kind kind;
  int kernels::object_features::*int_member;    ///< set iff stored as int
  double kernels::object_features::*real_member; ///< set iff stored as double
};

using F = kernels::object_features;

/// In reference TSV column order (after object_label), SPEC §4.1/§4.3.
inline constexpr feature_column feature_columns[] = {
  {"object_width", "width", feature_kind::area_or_length, &F::width, nullptr},
  {"object_height", "height", feature_kind::area_or_length, &F::height, nullptr},
  {"object_bx", "bx", feature_kind::int_value, &F::bx, nullptr},
  {"object_by", "by", feature_kind::int_value, &F::by, nullptr},
  {"object_circ.", "circ", feature_kind::real_value, nullptr, &F::circ},
  {"object_area_exc", "area_exc", feature_kind::area_or_length, nullptr, &F::area_exc},
  {"object_area", "area", feature_kind::area_or_length, nullptr, &F::area},
  {"object_%area", "percent_area", feature_kind::real_value, nullptr, &F::percent_area},
  {"object_major", "major", feature_kind::real_value, nullptr, &F::major},
  {"object_minor", "minor", feature_kind::real_value, nullptr, &F::minor},
  {"object_y", "y", feature_kind::real_value, nullptr, &F::y},
  {"object_x", "x", feature_kind::real_value, nullptr, &F::x},
  {"object_convex_area", "convex_area", feature_kind::area_or_length, nullptr,
   &F::convex_area},
  {"object_perim.", "perimeter", feature_kind::real_value, nullptr, &F::perimeter},
  {"object_elongation", "elongation", feature_kind::real_value, nullptr, &F::elongation},
  {"object_perimareaexc", "perim_area_exc", feature_kind::real_value, nullptr,
   &F::perim_area_exc},
  {"object_perimmajor", "perim_major", feature_kind::real_value, nullptr, &F::perim_major},
  {"object_circex", "circex", feature_kind::real_value, nullptr, &F::circex},
  {"object_angle", "angle", feature_kind::real_value, nullptr, &F::angle},
  {"object_bounding_box_area", "bounding_box_area", feature_kind::area_or_length, nullptr,
   &F::bounding_box_area},
  {"object_eccentricity", "eccentricity", feature_kind::real_value, nullptr,
   &F::eccentricity},
  {"object_equivalent_diameter", "equivalent_diameter", feature_kind::real_value, nullptr,
   &F::equivalent_diameter},
  {"object_euler_number", "euler_number", feature_kind::int_value, &F::euler_number,
   nullptr},
  {"object_extent", "extent", feature_kind::real_value, nullptr, &F::extent},
  {"object_local_centroid_col", "local_centroid_col", feature_kind::real_value, nullptr,
   &F::local_centroid_col},
  {"object_local_centroid_row", "local_centroid_row", feature_kind::real_value, nullptr,
   &F::local_centroid_row},
  {"object_solidity", "solidity", feature_kind::real_value, nullptr, &F::solidity},
  {"object_blur_laplacian", "blur_laplacian", feature_kind::real_value, nullptr,
   &F::blur_laplacian},
  {"object_MeanHue", "mean_hue", feature_kind::real_value, nullptr, &F::mean_hue},
  {"object_MeanSaturation", "mean_saturation", feature_kind::real_value, nullptr,
   &F::mean_saturation},
  {"object_MeanValue", "mean_value", feature_kind::real_value, nullptr, &F::mean_value},
  {"object_StdHue", "std_hue", feature_kind::real_value, nullptr, &F::std_hue},
  {"object_StdSaturation", "std_saturation", feature_kind::real_value, nullptr,
   &F::std_saturation},
  {"object_StdValue", "std_value", feature_kind::real_value, nullptr, &F::std_value},
};

inline constexpr std::size_t feature_count = sizeof(feature_columns) / sizeof(feature_columns[0]);

} // namespace seg::io::detail
