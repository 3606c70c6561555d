#pragma once

// A job's stage totals (messages/job.hpp stage_totals) as the summary shows
// them: every field as JSON, and the text of `segment`'s stages line. CAF-free,
// so the command line's tests link it.

#include <string>

#include <nlohmann/json.hpp>

#include "messages/job.hpp"

namespace seg::cli {

/// Every stage_totals field, as a number (ms summed over frames; tiles and
/// pixels as counts), the tile fields too when no frame was tiled.
nlohmann::ordered_json stages_json(const stage_totals& s);

/// The stages of one job for `segment`'s summary, without a newline at the
/// end: the frame stages and waits, then, only when the job tiled frames, a
/// second line of the tiles' numbers.
std::string stages_text(const stage_totals& s);

} // namespace seg::cli
