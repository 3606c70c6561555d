#pragma once

// The PlanktoScope imager's integrity.check (controller/integrity.py): two
// '#' header lines, then one "<file name>,<size>,<sha1>" line per file, each
// appended once the file is written. A job that follows an acquisition
// still being written segments only the frames listed there, so never a
// half-written file.

#include <filesystem>
#include <string>
#include <vector>

namespace seg::io {

/// Name of the imager's integrity file in an acquisition folder.
inline constexpr const char* integrity_file_name = "integrity.check";

/// The frames of `dir` that its integrity.check lists and that are on disk
/// as regular files of the listed size, sorted byte-wise (as list_frames).
/// No integrity.check (yet): none. Lines that do not parse are skipped (the
/// last one may be half-written). @throws io_error if the file exists but
/// cannot be read.
std::vector<std::string> integrity_frames(const std::filesystem::path& dir);

} // namespace seg::io
