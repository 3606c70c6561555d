#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "actors/io/op_journal.hpp"
#include "tools/segflow/segment_run.hpp"

namespace seg::cli {

/// `segflow ops recover ID`: refuses (exit 1, nothing touched) unless `id`
/// is stuck, its holder is not alive on this host, and it still holds every
/// lock of its scope; then cleans the scope and replays the export through
/// the pipeline (`base`: settings, workers) under the same operation id.
int recover_operation(const std::filesystem::path& state, const std::string& id,
                      segment_request base, std::ostream& out, std::ostream& err);

/// The stuck operations of `state` whose holder is provably dead on this host
/// and whose acquisition is one of `folders` (canonical paths): recovered
/// before a segment or serve run starts, and logged. Returns how many were.
std::size_t recover_dead_operations(const std::filesystem::path& state,
                                    const std::vector<std::string>& folders,
                                    const segment_request& base);

/// Prunes the journal of `state` as `s.journal` says (see op_journal::prune),
/// when segment or serve starts. Returns how many operations went.
std::size_t prune_journal(const std::filesystem::path& state, const config::settings& s);

/// Removes from the scope of `op` what a crashed export may leave: temporary
/// files of dead writers, the archive, the TSV copy and done.txt it was
/// writing, and crops that no committed frame record names. Returns the
/// number of files removed.
std::size_t clean_scope(const io::op_record& op);

} // namespace seg::cli
