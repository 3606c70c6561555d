#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Checks an EcoTaxa archive (or a TSV and the images beside it) against the
// rules of EcoTaxa's importer, so an archive is known to import before it is
// uploaded. Rules (ids in brackets):
//   [tsv-name]       the archive holds TSVs named ecotaxa_*.tsv, lowercase
//                    (the importer looks for exactly those names)
//   [header]         a names row and a types row
//   [type-row]       the types row has one [t] or [f] per column
//   [column-prefix]  every column name starts with a lowercase object_, img_,
//                    acq_, sample_ or process_ (the rest may be mixed case:
//                    the importer lowercases names)
//   [column-unique]  no two columns share a name (compared lowercased)
//   [parent-id]      sample_/acq_/process_ columns need sample_id/acq_id/
//                    process_id
//   [object-columns] at most 500 numeric and 20 text object_ columns besides
//                    the importer's predefined ones (object_id, object_lat,
//                    object_lon, object_date, object_time, object_link,
//                    object_depth_min/max, object_annotation_*)
//   [row-cells]      every row has one cell per column
//   [text-length]    no value longer than 250 characters (counted in bytes:
//                    the importer reads the TSV as Latin-1)
//   [numeric-value]  [f] object_ and img_ columns hold numbers (or nothing)
//   [object-id]      an object_id column, non-empty and unique per row
//   [image]          an img_file_name column; each named image exists
//                    (relative to the TSV's folder) and is a PNG, JPEG or GIF
namespace seg::io {

/// One broken rule.
struct ecotaxa_problem {
  std::string rule;     ///< rule id, e.g. "column-prefix"
  std::string message;  ///< what is wrong, naming the file, column and row
};

/// Renders "[rule] message".
std::string to_string(const ecotaxa_problem& p);

/// Returns the first bytes (at least 8, fewer if the file is shorter) of
/// the image an img_file_name value names (the caller resolves it relative
/// to the TSV's folder), or nullopt if there is no such image.
using image_reader = std::function<std::optional<std::string>(const std::string& name)>;

/// Checks one TSV's text. `tsv_name` is its file name or archive entry
/// (named in messages; [tsv-name] is checked on its last path component).
/// Per-cell rules report their first 5 offending cells per column, then a
/// count of the rest.
std::vector<ecotaxa_problem> validate_ecotaxa_tsv(const std::string& tsv_name,
                                                  std::string_view text,
                                                  const image_reader& images);

/// Checks every TSV of an archive (at least one ecotaxa_*.tsv must be there),
/// images looked up in the archive relative to each TSV's folder. Problems
/// name the TSV as "<zip>/<entry>"; other .tsv entries are [tsv-name]
/// problems (the importer would ignore them).
/// @throws io_error if the archive cannot be opened as a zip.
std::vector<ecotaxa_problem> validate_ecotaxa_zip(const std::filesystem::path& zip);

/// Checks a TSV file, images looked up in its folder.
/// @throws io_error if the file cannot be read.
std::vector<ecotaxa_problem> validate_ecotaxa_tsv_file(const std::filesystem::path& tsv);

/// True if `name` (a file name, no folder) is one the importer reads:
/// "ecotaxa_" + at least one character + ".tsv", all of "ecotaxa_" and
/// ".tsv" lowercase.
bool is_ecotaxa_tsv_name(std::string_view name);

/// Splits TSV text into rows of cells as Python's csv module reads it
/// (delimiter TAB, quote '"', doubled quotes inside quoted cells, newlines
/// allowed inside quotes; "\n" or "\r\n" line ends). A final line end does
/// not start an empty row.
std::vector<std::vector<std::string>> parse_tsv(std::string_view text);

} // namespace seg::io
