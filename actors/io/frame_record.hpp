#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kernels/features.hpp"

// The per-frame record the exporter commits after a frame's crops: a frame is
// done iff its record exists (DESIGN "Durability"). JSON lines, UTF-8:
//   line 1: {"format":"segflow-frame-record","version":1,"frame":...,
//            "frame_index":...,"object_count":N}
//   then N lines: {"i":...,"crop":...,"features":{"width":...,...}}
// each line ending with '\n'. Doubles are written with the shortest text that
// reads back to the same bits; NaN and ±inf as the strings "nan", "inf",
// "-inf" (JSON has no such numbers).
namespace seg::io {

/// One object of a frame.
struct frame_object {
  int index = 0;                      ///< i: 0-based index within the frame (label order)
  kernels::object_features features;
  std::string crop_file;              ///< crop file name (no directory), e.g. "<stem>_<i>.jpg"
};

/// Everything the exporter needs from one segmented frame.
struct frame_record {
  std::string frame;                  ///< frame file name (no directory)
  int frame_index = 0;                ///< position in the acquisition's sorted frame list
  std::vector<frame_object> objects;  ///< in-frame order; the count is objects.size()
};

/// The record as JSON-lines text (format above).
std::string serialize_frame_record(const frame_record& record);

/// Parses serialize_frame_record's text.
/// @param origin names the source in errors (usually the file path).
/// @throws io_error naming `origin`: invalid JSON on a line, a missing or
///         mistyped field, a wrong format/version, a last line without its
///         '\n', or fewer/more object lines than object_count (truncation).
frame_record parse_frame_record(const std::string& text,
                                const std::filesystem::path& origin);

/// Writes the record atomically (write_file_atomic) to `file`.
/// @throws io_error naming `file`.
void write_frame_record(const std::filesystem::path& file, const frame_record& record);

/// Reads and parses `file`.
/// @throws io_error naming `file` (unreadable, truncated or invalid).
frame_record read_frame_record(const std::filesystem::path& file);

} // namespace seg::io
