#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kernels/features.hpp"

// The EcoTaxa TSV exactly as the reference writes it (SPEC-planktoscope
// §4.5–§4.6): pandas DataFrame.to_csv(sep="\t") of one row per object with a
// two-line header (names, then [f]/[t] types). No CAF here.
namespace seg::io {

/// One exported object (one TSV row).
struct tsv_object {
  std::string name;                   ///< object_id; the crop is name + ".jpg"
  std::int64_t label = 0;             ///< object_label: 0-based running index in the acquisition
  kernels::object_features features;  ///< object_width … object_StdValue
};

/// The acquisition-level fields the segmenter adds (SPEC §4.5).
struct process_fields {
  std::string datetime;               ///< process_datetime, e.g. utc_isoformat_now()
  std::string uuid;                   ///< process_uuid, the run's uuid4
  std::string id;                     ///< process_id, the full value (see make_process_id)
  bool remove_previous_mask = false;  ///< 3rd operation: remove_previous_mask, else no_op
};

/// The reference's process_id: "<sample_project>_<sample_id>_<setting>" with
/// spaces in project and sample replaced by '_' (the setting is kept as is;
/// the reference uses the run's uuid when no setting is given).
/// @param metadata read_metadata's result (both keys are strings).
std::string make_process_id(const nlohmann::ordered_json& metadata, const std::string& setting);

/// `metadata` with process_datetime, process_uuid, process_id and
/// process_1st_operation … process_7th_operation set: a key already present
/// keeps its position and takes the new value, new keys are appended in that
/// order. The operations are the reference's dicts (SPEC §4.5).
nlohmann::ordered_json with_process_fields(const nlohmann::ordered_json& metadata,
                                           const process_fields& process);

/// Options of the writer.
struct tsv_options {
  /// Features were scaled to µm (default profile): the area columns
  /// (object_area_exc, object_area, object_convex_area,
  /// object_bounding_box_area) are printed as floats instead of ints.
  /// object_width/object_height are ints in object_features and stay ints.
  bool scaled_units = false;
};

/// The TSV text (UTF-8, '\n' line ends, trailing '\n'):
/// - columns: the keys of with_process_fields(metadata, process) in order,
///   then object_label, the object_features columns, object_id,
///   img_file_name (name + ".jpg"), img_rank (1). A metadata key equal to one
///   of those later columns keeps its position and takes the object's value,
///   as a Python dict update does.
/// - line 2: "[f]" for a column whose values are all non-bool numbers (the
///   object columns; JSON ints and floats in the metadata), else "[t]".
/// - cells: strings as is, ints as ints, floats as Python repr, bools as
///   True/False, null and NaN empty, dicts and lists as Python repr.
/// - a cell holding TAB, '"' or '\n' is quoted with '"' and its quotes
///   doubled (csv.QUOTE_MINIMAL of Python 3.11, which leaves a lone '\r').
/// With no objects only the two header lines are written (the reference
/// writes no TSV then; the caller decides).
/// @param metadata filter_metadata's result.
std::string make_ecotaxa_tsv(const nlohmann::ordered_json& metadata,
                             const process_fields& process,
                             const std::vector<tsv_object>& objects,
                             const tsv_options& options = {});

} // namespace seg::io
