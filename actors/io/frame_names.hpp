#pragma once

// Whether the names a frame's outputs get (object ids, crop and record file
// names) are usable: a frame whose names break a rule fails alone, so that
// one oddly named file never fails its acquisition. No CAF here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seg {
struct job_plan;
}

namespace seg::io {

/// Why frame `frame` of `plan` cannot be committed with objects 0 …
/// `last_index` (its longest names), or nullopt if it can: a crop or record
/// file name over 255 bytes (NAME_MAX), or, with export.ecotaxa on, an
/// object_id or img_file_name breaking a rule of EcoTaxa's importer
/// (validate_ecotaxa_tsv on a one-object TSV, e.g. [text-length]). The text
/// names the frame and says how to fix it.
std::optional<std::string> frame_name_problem(const job_plan& plan, std::string_view frame,
                                              std::uint32_t last_index);

} // namespace seg::io
