#pragma once

// How a segmented frame becomes committed: its crops, then its record (a
// frame is done iff its record exists, DESIGN "Durability"). No CAF here.

#include <vector>

#include "actors/io/output_layout.hpp"
#include "messages/frame_result.hpp"

namespace seg {

struct job_plan;

/// Commits one frame: its crops written atomically with one flush, then its
/// record. On failure (e.g. the disk is full) the crops are removed again
/// and the error is rethrown (io_error naming the file).
void commit_frame(const job_plan& plan, const io::output_layout& layout,
                  const frame_result& r);

/// Commits a group of frames with one file-system flush: every crop and
/// record is written to a temporary file, all are made durable together,
/// then the crops are renamed into place and their folder synced, and only
/// then the records. On failure the crops of every frame whose record is not
/// in place are removed and the error is rethrown.
void commit_frames(const job_plan& plan, const io::output_layout& layout,
                   const std::vector<frame_result>& group);

} // namespace seg
