#pragma once

#include <cstddef>
#include <string>

#include "actors/io/report/report_data.hpp"

// The HTML of an acquisition's report (report.html) and of its page of all
// objects (report-objects.html).
namespace seg::io::report {

/// How the pages are made.
struct page_options {
  std::size_t mosaic_limit = 120; ///< objects in the report's mosaic, largest first
  int thumbnail_px = 128;         ///< the mosaic's thumbnails fit in this square
};

/// The file name of the page of all objects, beside report.html.
inline constexpr const char* objects_page_name = "report-objects.html";

/// report.html: header, mosaic (thumbnails as JPEG data URIs), size spectrum
/// and NBSS, objects per frame, flat field, failed frames, stage times; its
/// numbers as JSON (see page_tail). Reads the mosaic's crops from
/// r.objects_dir; a crop that cannot be read is left out and named in the
/// page's problems.
std::string acquisition_page(const acquisition_report& r, const page_options& opts);

/// report-objects.html: every object, largest first, its crop loaded from
/// the file beside the page.
std::string objects_page(const acquisition_report& r);

} // namespace seg::io::report
