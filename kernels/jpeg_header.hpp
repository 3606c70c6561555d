#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <opencv2/core/types.hpp>

namespace seg::kernels {

/// Reads a JPEG's frame size from its SOF marker without decoding it, so
/// oversized frames can be refused before any pixel memory is allocated.
/// @return width x height, or nullopt if the bytes are not a JPEG with a
///         frame header.
std::optional<cv::Size> jpeg_size(const std::uint8_t* data, std::size_t size);

} // namespace seg::kernels
