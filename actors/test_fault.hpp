#pragma once

#include <string>

namespace seg {

/// The test-only fault hook: SEGFLOW_TEST_FAULT=<action>@<frame name> makes
/// a segment worker misbehave when it starts segmenting that frame, so tests
/// can exercise crash and time-limit handling through the real pipeline.
/// Actions: `abort` (the process crashes, every time), `hang` (the step never
/// returns; for worker processes only: an in-process hang also blocks the
/// process's shutdown), `sleep=S` (the step takes S more seconds), `skip`
/// (the frame is reported done with no objects, no kernel run: a fake
/// worker, for measuring what serve's reader and exporter can feed). FRAME
/// `*` matches every frame. Unset or malformed (a warning is logged once):
/// no fault.
/// The exporter calls it with the export's steps as names:
/// `export:begin` (scope journalled and locked, nothing written),
/// `export:written` (archive and TSV copy written, done.txt not yet),
/// `export:done` (done.txt written, the operation not yet cleared).
/// Returns true when the caller is to skip its work (`skip`).
bool inject_test_fault(const std::string& frame_name);

} // namespace seg
