// `segflow report`: writes the HTML reports of acquisitions already
// segmented (a job writes them itself when it ends, unless export.report is
// off) and the index of each data root they are in.
#include <filesystem>
#include <iostream>
#include <set>

#include "actors/io/acquisition.hpp"
#include "actors/io/report/report.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

// A data root is searched below its img/ only: its objects/ holds no
// acquisition but may hold many thousands of crops.
fs::path search_root(const fs::path& p) {
  std::error_code ec;
  if (fs::is_directory(p / "img", ec) && !fs::exists(p / "metadata.json", ec))
    return p / "img";
  return p;
}

} // namespace

int run_report(int argc, char** argv) {
  settings_options opts;
  std::vector<std::string> paths;
  std::int64_t mosaic = 120;
  arg_parser parser(
    "segflow report [--mosaic N] [--config FILE] [--profile NAME] [--set K=V]... PATH...",
    "Writes objects/<rel>/report.html (with report-objects.html beside it) for\n"
    "each acquisition at or below each PATH (an acquisition folder, a folder\n"
    "above some, or a data root), then objects/report.html, the index of each\n"
    "data root met. A report shows the acquisition's identity and counts, its\n"
    "objects largest first, the size spectrum and NBSS, objects per frame,\n"
    "the flat field, failed frames and where the run's time went. The run's\n"
    "record (.segflow/run.json) gives its profile and units; the settings\n"
    "here are used only for outputs without one. Exit code 0: all written;\n"
    "1: some report could not be written; 2: usage, or no acquisition found.");
  opts.declare(parser);
  parser.option("mosaic", &mosaic, "N", "objects shown in the report's mosaic (default 120)",
                0, 100000);
  parser.positionals(&paths, "PATH", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  config::settings settings;
  if (!load_settings(opts, settings))
    return exit_usage;
  std::vector<fs::path> inputs;
  for (auto& p : paths)
    inputs.push_back(search_root(p));
  auto found = io::find_acquisition_dirs(inputs, /*recursive=*/true);
  for (auto& p : found.problems)
    std::cerr << "error: " << p << "\n";
  if (found.dirs.empty() || !found.problems.empty())
    return exit_usage;
  io::report::run_assumptions assumed;
  assumed.profile = config::to_string(settings.run_profile);
  assumed.micrometres = settings.segmentation.size_units == config::units::micrometres;
  assumed.flat_recalculate = settings.segmentation.flat_recalculate;
  io::report::page_options page;
  page.mosaic_limit = std::size_t(mosaic);
  int rc = exit_ok;
  std::set<fs::path> roots;
  for (auto& dir : found.dirs) {
    try {
      std::cout << "report: " << io::report::write_acquisition_report(dir, assumed, page).string()
                << "\n";
      roots.insert(io::open_acquisition(dir).data_root);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      rc = exit_failed;
    }
  }
  for (auto& root : roots) {
    try {
      std::cout << "index: " << io::report::write_report_index(root).string() << "\n";
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      rc = exit_failed;
    }
  }
  return rc;
}

} // namespace seg::cli
