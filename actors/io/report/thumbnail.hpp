#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

// Small JPEG pictures of the reports: object thumbnails and the flat field.
namespace seg::io::report {

/// A JPEG that fits in `box` × `box` pixels. A JPEG already that small (and
/// at most 16 KiB) is returned as it is; a larger one is decoded, shrunk
/// (area averaging) and encoded at quality 85. Empty when `jpeg` cannot be
/// decoded.
std::vector<std::uint8_t> jpeg_thumbnail(const std::vector<std::uint8_t>& jpeg, int box);

/// "data:image/jpeg;base64,..." of `jpeg`.
std::string jpeg_data_uri(const std::vector<std::uint8_t>& jpeg);

/// <objects>/.segflow/flat.jpg: a thumbnail of the job's first flat field.
std::filesystem::path flat_thumbnail_file(const std::filesystem::path& objects_dir);

/// Writes `flat` (CV_8UC3, BGR) shrunk to at most 480 px wide as a JPEG to
/// `file` atomically; its folder must exist (made with make_owned_dirs).
/// @throws io_error naming `file`, cv::Exception on a bad image.
void write_flat_thumbnail(const cv::Mat& flat, const std::filesystem::path& file);

} // namespace seg::io::report
