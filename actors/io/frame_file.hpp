#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core/types.hpp>

// Reading frame files safely: a frame name or a symlink in an acquisition
// must not lead segflow outside the acquisition, and no file may exhaust
// memory before its header is checked.
namespace seg::io {

/// Checks that `name` is a plain frame file name: not empty, no '/' or '\\',
/// not starting with '.', no control character, at most 200 bytes.
/// @throws io_error naming dir/name and the problem.
void check_frame_name(const std::filesystem::path& dir, std::string_view name);

/// The largest frame file accepted for frames of at most `max_pixels`
/// pixels: 4 bytes per pixel + 16 MiB (a JPEG is far smaller than that).
std::uint64_t max_frame_file_bytes(std::int64_t max_pixels);

/// A frame size as messages say it: "WxH".
std::string size_text(int width, int height);

/// The frame-size check of every place that reads a frame's header (the
/// reader sizing an acquisition and filling the flat's stack, the worker,
/// segment's preflight): "" when a frame whose header says `coded` has at
/// most `max_pixels` pixels (pipeline.max_frame_pixels), else
/// "<path>: WxH exceeds pipeline.max_frame_pixels (N)".
std::string frame_size_problem(const std::string& path, cv::Size coded,
                               std::int64_t max_pixels);

/// Reads frame `name` of the acquisition folder `dir`.
/// @param max_bytes larger files are refused unread
/// @throws io_error naming dir/name: a name refused by check_frame_name, a
///         symlink whose resolved target lies outside dir (resolved), not a
///         regular file, an empty file, a file larger than max_bytes, or a
///         system error opening or reading it (e.g. "Permission denied").
std::vector<std::uint8_t> read_frame_file(const std::filesystem::path& dir,
                                          std::string_view name, std::uint64_t max_bytes);

} // namespace seg::io
