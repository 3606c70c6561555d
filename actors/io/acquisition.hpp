#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

// Acquisition folders in the PlanktoScope layout (SPEC-planktoscope §1):
// <data root>/img/<date>/<sample>/<acq>/{metadata.json, frames}. Functions
// returning nlohmann::ordered_json need <nlohmann/json.hpp> at the call site.
namespace seg::io {

/// One acquisition folder, as found on disk.
struct acquisition {
  std::filesystem::path dir;          ///< the folder (absolute, lexically normal)
  std::filesystem::path data_root;    ///< the folder holding img/ (dir is under data_root/img)
  std::filesystem::path rel;          ///< dir relative to data_root/img, e.g. 20250911/s/a
  std::vector<std::string> frames;    ///< frame file names (no directory), byte-wise sorted
};

/// The endings of frame file names: the reference's JPEG ones (its
/// _find_files), then PNG and TIFF (scanners write TIFF). Case-sensitive.
inline constexpr std::array<std::string_view, 10> frame_name_endings = {
  "jpg", "JPG", "jpeg", "JPEG", "png", "PNG", "tif", "TIF", "tiff", "TIFF"};

/// The endings for messages: "jpg, JPG, ..., tiff or TIFF".
std::string frame_endings_text();

/// True if `name` is a frame name: it ends with one of frame_name_endings
/// (no dot required, so "djpg" counts and "c.Jpg" does not), as the
/// reference's _find_files. Which format a frame holds is told by its bytes.
bool is_frame_name(std::string_view name);

/// The frame names of `dir`: top-level regular files (symlinks to regular
/// files count) whose names pass is_frame_name, sorted byte-wise (Python's
/// sorted() on str gives the same order for UTF-8 names).
/// @throws io_error if `dir` cannot be listed.
std::vector<std::string> list_frames(const std::filesystem::path& dir);

/// Describes the acquisition in `dir`: its data root is the nearest ancestor
/// named img's parent (dir must lie strictly below an "img" folder), rel the
/// path below img/, frames as list_frames. Paths are made absolute and
/// lexically normal without resolving symlinks.
/// @throws io_error naming dir if it is missing, not a directory, not under an
///         img/ folder, or holds no frame.
acquisition open_acquisition(const std::filesystem::path& dir);

/// open_acquisition without listing frames (frames stays empty): for a
/// folder whose frames are still being written. @throws io_error as
/// open_acquisition, but for the frames.
acquisition locate_acquisition(const std::filesystem::path& dir);

/// Result of find_acquisition_dirs: what was found and every problem met.
struct discovery {
  std::vector<std::filesystem::path> dirs;  ///< acquisition folders, absolute, no duplicates
  std::vector<std::string> problems;        ///< one message per problem, each naming its path
};

/// The acquisition folders named by `inputs`.
/// - recursive: every directory at or below each input that holds a
///   metadata.json. The reference walks in OS order; we sort (byte-wise) the
///   folders found under each input so runs are reproducible. Directory
///   symlinks are not followed (as os.walk).
/// - not recursive: each input itself, which must hold a metadata.json.
/// Inputs keep their order; a folder seen before is not listed again.
/// Problems (a missing input, an input that is not a directory, no
/// acquisition found, an unreadable subfolder) are all collected instead of
/// stopping at the first.
discovery find_acquisition_dirs(const std::vector<std::filesystem::path>& inputs,
                                bool recursive);

/// Keys metadata.json must hold (SPEC §1.3).
inline constexpr const char* required_metadata_keys[] = {
  "sample_project", "sample_id", "acq_id", "acq_camera_resolution"};

/// Reads and checks <file> (a metadata.json), keeping key order.
/// sample_project, sample_id and acq_id must be strings; acq_camera_resolution
/// a string or a [W, H] list.
/// @throws io_error naming the file: unreadable, invalid JSON (with the
///         parser's message), not an object, missing keys (all named), or a
///         required key of the wrong type.
nlohmann::ordered_json read_metadata(const std::filesystem::path& file);

/// The metadata as the reference exports it: only keys starting with "acq",
/// "sample", "object" or "process", in file order; a list
/// acq_camera_resolution [W, H] becomes the string "WxH".
/// @pre `metadata` passed read_metadata's checks.
nlohmann::ordered_json filter_metadata(const nlohmann::ordered_json& metadata);

/// process_pixel (µm per pixel) for the micrometre profile.
struct pixel_size {
  std::optional<double> um_per_px;  ///< set iff valid: a number or numeric string, finite, > 0
  std::string reason;               ///< why it is not valid (empty when valid)
};

/// Parses metadata["process_pixel"] (SPEC §1.3, F-new): valid if it is a
/// number (not a bool) or a string that parses entirely as a decimal float
/// (surrounding whitespace allowed), finite and > 0.
pixel_size parse_process_pixel(const nlohmann::ordered_json& metadata);

/// Makes an id usable as (part of) one file name, as the reference does for
/// the zip name: spaces become '_'. Refused (io_error naming `what` and the
/// id): empty, a leading '.', '/', '\\', NUL or other control characters, or
/// more than 200 bytes.
/// @param what names the id in the error, e.g. "metadata.json acq_id".
std::string safe_file_component(std::string_view id, std::string_view what);

} // namespace seg::io
