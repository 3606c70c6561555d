#pragma once

#include <array>
#include <cstdint>

#include <opencv2/core/mat.hpp>

namespace seg::kernels {

/// Pixel counts of an 8-bit image per value.
using gray_histogram = std::array<std::int64_t, 256>;

/// The reference's flat-field correction (SPEC-planktoscope §2.2) of one frame:
/// per element c = double(f) / double(g) in float64, pixel (0,0) forced to 0
/// on all channels, clip to [0, 1.04], v = (c - 0) / (1.04 - 0) * (255 - 0) + 0
/// (skimage 0.19 rescale_intensity), truncated to uint8; 0/0 -> 0, x/0 -> 255.
/// @param frame raw CV_8UC3 BGR frame
/// @param flat CV_8UC3 flat of the same size
/// @return CV_8UC3 corrected frame of the same size
cv::Mat correct_frame(const cv::Mat& frame, const cv::Mat& flat);

/// Same as correct_frame, writing into `out` (reallocated only if its size or
/// type differ), so a worker can reuse one buffer across frames. `out` may be
/// `frame` itself (in place: a worker then needs one 37 MB buffer, not two).
/// @pre out does not alias flat, nor overlap frame other than being it
void correct_frame(const cv::Mat& frame, const cv::Mat& flat, cv::Mat& out);

/// correct_frame (in place too) that, in the same pass, writes the corrected
/// frame's 8-bit gray image, exactly cv::cvtColor(COLOR_BGR2GRAY), and counts
/// its histogram: what make_mask would recompute by reading the frame again.
/// @param gray CV_8UC1 output (reallocated only if needed); must not alias
///        frame or flat
/// @param hist histogram of `gray`
void correct_frame_gray(const cv::Mat& frame, const cv::Mat& flat, cv::Mat& out, cv::Mat& gray,
                        gray_histogram& hist);

/// correct_frame_gray of a region of a frame (frame and flat are views of
/// the region, out may be a view of the same size): the reference's pixel
/// (0,0) rule applies only when the region's top-left corner `origin` is
/// the frame's own. A tile's or a band's correction equals the frame's there.
void correct_region_gray(const cv::Mat& frame, const cv::Mat& flat, cv::Point origin,
                         cv::Mat& out, cv::Mat& gray, gray_histogram& hist);

/// The gray image (cv::cvtColor COLOR_BGR2GRAY, bit for bit) of a CV_8UC3
/// image and its histogram, in one pass.
void gray_and_histogram(const cv::Mat& bgr, cv::Mat& gray, gray_histogram& hist);

/// The 256x256 table behind correct_frame: entry (f << 8) | g is the corrected
/// byte for raw value f over flat value g (without the pixel (0,0) rule).
/// Computed once, on first use, with the exact float64 expression.
const std::uint8_t* correction_lut();

/// Which row kernels the correction and gray passes use. `best`: AVX2 where
/// the CPU has it, else the 128-bit path (NEON on arm64, SSE on x86), else
/// scalar; `simd128` and `scalar` cap it there. Every path gives the same
/// bytes; tests and benchmarks compare them. Process-wide; default `best`.
enum class vector_path { best, simd128, scalar };
void use_vector_path(vector_path path);

} // namespace seg::kernels
