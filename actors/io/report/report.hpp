#pragma once

#include <filesystem>

#include "actors/io/report/acquisition_page.hpp"
#include "actors/io/report/report_data.hpp"

// The reports segflow writes for people: one per acquisition
// (objects/<rel>/report.html, with report-objects.html beside it) and an
// index of the data root (objects/report.html). Plain C++, no CAF.
namespace seg::io::report {

/// <objects>/report.html.
std::filesystem::path report_file(const std::filesystem::path& objects_dir);

/// <root>/objects/report.html.
std::filesystem::path index_file(const std::filesystem::path& data_root);

/// Writes the acquisition's report and its page of all objects, each
/// atomically. Returns the report's path.
/// @throws io_error (or std::exception) naming what could not be read or
///         written.
std::filesystem::path write_acquisition_report(const std::filesystem::path& acq_dir,
                                               const run_assumptions& assumed,
                                               const page_options& opts = {});

/// Writes the index of every acquisition under <data_root>/img (state,
/// counts, a link to its report when there is one) atomically. Returns its
/// path. @throws io_error naming what could not be listed or written.
std::filesystem::path write_report_index(const std::filesystem::path& data_root);

} // namespace seg::io::report
