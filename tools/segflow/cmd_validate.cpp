// `segflow validate-ecotaxa`: checks archives (or TSVs with their images)
// against EcoTaxa's import rules before they are uploaded.
#include <filesystem>
#include <iostream>

#include "actors/io/ecotaxa/ecotaxa_validate.hpp"
#include "actors/io/io_error.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"

namespace seg::cli {

int run_validate_ecotaxa(int argc, char** argv) {
  std::vector<std::string> paths;
  arg_parser parser(
    "segflow validate-ecotaxa ZIP|TSV...",
    "Checks each EcoTaxa archive (or a TSV with its images beside it) against\n"
    "the importer's rules: lowercase ecotaxa_*.tsv, the [t]/[f] types row,\n"
    "column names prefixed with a lowercase object_, img_, acq_, sample_ or\n"
    "process_, unique names, <prefix>_id for each prefix used, values of at\n"
    "most 250 characters, at most 500 numeric and 20 text object_ columns,\n"
    "numbers in [f] object_/img_ columns, a unique non-empty object_id per\n"
    "row, and every img_file_name present and a PNG, JPEG or GIF.\n"
    "Prints every problem as [rule] message. Exit code 0: all valid; 1: a\n"
    "rule is broken or an archive cannot be opened; 2: usage (missing path).");
  parser.positionals(&paths, "ZIP|TSV", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  for (auto& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      std::cerr << "error: " << p << ": no such file\n";
      return exit_usage;
    }
  }
  int rc = exit_ok;
  for (auto& p : paths) {
    std::vector<io::ecotaxa_problem> problems;
    try {
      auto ext = std::filesystem::path(p).extension().string();
      for (auto& c : ext)
        c = char(std::tolower(static_cast<unsigned char>(c)));
      problems = ext == ".tsv" ? io::validate_ecotaxa_tsv_file(p) : io::validate_ecotaxa_zip(p);
    } catch (const std::exception& e) {
      problems.push_back({"archive", e.what()});
    }
    for (auto& pr : problems)
      std::cout << io::to_string(pr) << "\n";
    if (problems.empty()) {
      std::cout << p << ": valid\n";
    } else {
      std::cout << p << ": " << problems.size() << " problem(s)\n";
      rc = exit_failed;
    }
  }
  return rc;
}

} // namespace seg::cli
