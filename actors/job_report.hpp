#pragma once

#include "config/settings.hpp"
#include "messages/job.hpp"

namespace seg {

/// What a job leaves for people once it ended: the run record
/// (<objects>/.segflow/run.json: outcome, settings digest, stage times) and,
/// with export.report, the acquisition's HTML report and the data root's
/// index (io/report). Never throws and never changes the job's outcome: a
/// problem is logged as report_failed.
/// @param base the settings sources the job's settings were made from
void report_job_end(const config::sources& base, const job_spec& spec,
                    const job_summary& summary);

} // namespace seg
