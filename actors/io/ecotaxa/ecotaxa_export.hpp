#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "actors/io/ecotaxa/ecotaxa_tsv.hpp"
#include "actors/io/ecotaxa/ecotaxa_zip.hpp"
#include "kernels/features.hpp"

// An acquisition's EcoTaxa export: the TSV made from the job's metadata and
// objects, checked against EcoTaxa's import rules, the zip of crops and TSV,
// and the TSV copy beside the crops. Whoever has the objects in label order
// (the exporter from its per-frame records, a tile stitcher from its tiles)
// calls it once at the end of the job.
namespace seg {
struct job_plan;
}

namespace seg::io {

class output_layout;

/// The objects of one archive, in label order.
struct ecotaxa_objects {
  std::vector<tsv_object> rows; ///< one TSV row per object, object_label = position
  std::vector<zip_input> crops; ///< the crop of each row, on disk
};

/// Appends one object: `features` in pixels (scaled to µm here when the plan
/// has a pixel size), its crop `crop_name` read from `crop_file`.
void add_object(ecotaxa_objects& objects, const job_plan& plan, std::string name,
                kernels::object_features features, std::string crop_name,
                std::filesystem::path crop_file);

/// The run's process_datetime and process_uuid in the TSV.
struct export_identity {
  std::string datetime; ///< utc_isoformat
  std::string uuid;     ///< uuid4
};

/// A fresh identity: now and a random uuid4.
export_identity new_export_identity();

/// Writes the job's EcoTaxa archive and its TSV copy (only when plan.ecotaxa
/// is set and there is at least one object) and returns the archive's path,
/// or "" when nothing was written. An archive that would not import is not
/// written: std::runtime_error naming the acquisition and the first problems.
/// If writing fails, neither the archive nor the TSV copy is left behind.
/// `identity` (empty: a fresh one) lets a replayed export write the bytes the
/// interrupted one would have.
/// @throws io_error or std::runtime_error.
std::string write_ecotaxa_export(const job_plan& plan, const output_layout& layout,
                                 const ecotaxa_objects& objects,
                                 const export_identity& identity = {});

} // namespace seg::io
