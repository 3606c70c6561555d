#pragma once

// The export of a job run as an operation of the journal: before the archive,
// the TSV copy and done.txt are written, the scope is recorded and the
// outputs are locked indefinitely (no expiry, never taken over); a clean end
// clears both, a crash or an exception leaves them for `segflow ops stuck`
// and `segflow ops recover`.

#include <optional>
#include <string>
#include <vector>

#include "actors/io/op_journal.hpp"
#include "actors/io/lease_file.hpp"

namespace seg {
struct job_plan;
}

namespace seg::io {

class output_layout;

/// The keys an export locks: the output folder and, with EcoTaxa on, the
/// archive path.
std::vector<std::string> export_keys(const job_plan& plan, const output_layout& layout);

/// The keys a job run leases for its whole duration, canonical as the lock
/// manager makes them and sorted: its acquisition and its export keys. Two
/// acquisitions with one archive path (one acq_id) so never run at once.
/// Makes the folders the export keys are in (owned), so a key names the
/// same lease file before and after the run writes its outputs.
/// @throws io_error (a folder that cannot be made or is not owned).
std::vector<std::string> job_keys(const job_plan& plan, const output_layout& layout);

/// If a key of this job's export is under an indefinite lock, the refusal
/// naming the stuck operation and the command that recovers it; else "".
/// A lock of the operation `recovering` does not count.
std::string stuck_refusal(const job_plan& plan, const output_layout& layout,
                          const std::string& recovering = {});

/// Records a new operation for the run `plan.id` (state computing), or,
/// given `recovered`, runs it again under that operation's id (holder now
/// this process). A journal that cannot be written is logged and the run goes
/// on without it.
std::optional<op_record> start_operation(const op_journal& journal, const job_plan& plan,
                                         std::optional<op_record> recovered = {});

/// Records the export scope (`records`: the committed frames' record files)
/// in `op`, locks the export keys indefinitely (a recovered operation keeps
/// the locks it still holds) and moves `op` to write_started. Returns "" or why not (a key held: nothing is written).
/// @throws io_error if the journal cannot be written (the locks are given back).
std::string begin_export(const op_journal& journal, op_record& op, const job_plan& plan,
                         const output_layout& layout, std::vector<std::string> records);

/// A clean end: gives the locks back (value-matched), clears the scope, and
/// records `state` (success, or exception for a run that ended before its
/// export) with `error`. Journal write errors are logged.
void end_operation(const op_journal& journal, op_record& op, op_state state,
                   const std::string& error = {});

/// True if every lock of `op`'s scope is on disk as an indefinite lock of
/// `op` with its token; `problem` names the first that is not.
bool holds_its_locks(const op_record& op, std::string& problem);

/// True if `op` is write_started and none of its scope's locks is on disk as
/// its own: its holder died inside end_operation, which gives the locks back
/// only once the export is complete and then records the outcome. There is
/// nothing to recover; the operation only needs closing.
bool gave_back_its_locks(const op_record& op);

/// An export that failed while writing: records write_failed and `error`
/// and leaves scope and locks set (the partial output is for ops recover).
void fail_export(const op_journal& journal, op_record& op, const std::string& error);

} // namespace seg::io
