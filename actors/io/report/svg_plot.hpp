#pragma once

#include <string>
#include <vector>

#include "actors/io/report/report_data.hpp"
#include "actors/io/report/size_spectrum.hpp"

// The report's plots as inline SVG (made here: three small charts do not
// need a plotting library). Each scales to its container's width.
namespace seg::io::report {

/// Objects per ESD class: bars over log-spaced classes.
/// @param unit "µm" or "px", the ESD's unit
std::string size_counts_svg(const std::vector<size_bin>& bins, const std::string& unit);

/// The NBSS against ESD, log–log, one point per non-empty class.
/// @param y_label the NBSS axis title, with its unit
std::string nbss_svg(const std::vector<size_bin>& bins, const std::string& unit,
                     const std::string& y_label);

/// Objects per frame along the acquisition: a bar per done frame, a red
/// cross for each failed frame, a dashed line where a recalculated flat
/// starts.
std::string frames_svg(const std::vector<report_frame>& frames);

} // namespace seg::io::report
