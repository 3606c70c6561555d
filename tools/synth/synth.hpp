#pragma once

// Synthetic PlanktoScope-layout acquisitions (CAF-free), for the demo, the
// tests and the benchmarks.
//
// A frame is made as the PlanktoScope optics make it (and as
// ../shared/tools/compose.py composes its frames):
//
//   raw = illumination × gain × Π(particle transmission) + N(0, 1.5²)
//
// rounded, clipped to [1, 255], BGR JPEG quality 93. The illumination is
// static over an acquisition: off-centre radial vignetting, a linear gradient,
// a slight tint and a few faint dust specks and rings on the glass. Particles
// are placed afresh in every frame (stop-flow), so the per-pixel median of a
// few frames recovers the illumination, as the reference segmenter's flat
// field expects. Everything is drawn from the seed with our own PRNG and our
// own distributions, so the same options give byte-identical files.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace seg {

/// What to generate. Every field has the documented default of
/// `segflow synth`.
struct synth_options {
  /// Data root; the acquisition goes to out/img/<date>/<sample>/<acq>/ and
  /// the ground truth to out/ground_truth.json. Required.
  std::filesystem::path out;
  int frames = 12;          ///< good frames, >= 1
  int width = 1014;         ///< frame width in px, [64, 16384]
  int height = 760;         ///< frame height in px, [64, 16384]
  /// Mean particles per frame: each frame draws Poisson(objects) particles,
  /// fewer if some do not fit without touching another one. >= 0.
  /// Synthetic particles have an equivalent diameter log-uniform in
  /// [16, 90] px × sqrt(width × height / (1014 × 760)), so most pass the
  /// segmenter's 20 px size filter at 1014×760.
  int objects = 8;
  std::uint64_t seed = 1;   ///< everything derives from it
  /// Folder of real object crops (*.jpg, flat-field corrected, background
  /// ~245 grey, e.g. the santa-cruz-wharf crops) pasted multiplicatively
  /// (crop / 245) instead of the synthetic particles; empty for synthetic
  /// particles. Crops keep their size (shrunk only on frames smaller than
  /// 1014×760); crops with a dirty border or larger than a third of the
  /// frame are skipped.
  std::filesystem::path crops;
  /// Also write five faulty .jpg files (truncated, empty, not an image, 1×1,
  /// half size), sorted after the first 10 good frames.
  bool bad = false;
  /// Particles stuck on the flow-cell glass, what remove_previous_mask is
  /// for: each has a fixed shape and place (drawn from the seed, inside the
  /// frame) and is in every good frame from index 10 on, after the frames
  /// the flat field's median uses, so the flat does not absorb it. Moving
  /// particles avoid them. In [0, 100]; 0 changes nothing.
  int stuck = 0;
  /// Dense frames: frames dense_first .. dense_first + dense_count - 1 draw
  /// Poisson(dense_objects) particles instead of Poisson(objects), e.g. to
  /// fire the reference's flat recalculation heuristic. dense_count = 0: none.
  int dense_first = 0;
  int dense_count = 0;
  int dense_objects = 0;
  /// Tile grids whose seams get particles, each a core size W×H cut from
  /// the frame's top-left corner as `segment --tile-size WxH` cuts it. Per
  /// grid, every good frame also gets particles (before the random ones,
  /// which avoid them) across a tile corner, on a vertical and on a
  /// horizontal seam, across three tiles (a rod along a corner's diagonal),
  /// with a hole on a seam and one on a corner, on a seam where it meets the
  /// frame border, and one ending (or starting) within 12 px of a seam
  /// without crossing it; a case the grid has no seam for, or that finds no
  /// free place, is left out. Sizes are bounded by the grid's tile size, so
  /// an object crosses only the seams it is placed on. Each grid must cut the
  /// frame; at most 8 grids. Empty: none.
  std::vector<cv::Size> seam_grids;
};

/// Returns the first problem with `opts` ("--width must be ..."), or an empty
/// string. Checks that `crops`, if given, is a folder with *.jpg files.
std::string validate(const synth_options& opts);

/// One particle of a frame, in frame pixel coordinates.
struct synth_object {
  /// "ellipse", "rod" (thin ellipse), "blob" (irregular), "ring" (ellipse
  /// with a hole), "holed_blob" (blob with an inner hole), "chain" (a row of
  /// cells) or
  /// "crop" (a real crop from `synth_options::crops`).
  std::string kind;
  cv::Rect bbox;        ///< bounding box of the visible object pixels
  cv::Rect full_bbox;   ///< bounding box of all object pixels (may leave the frame)
  bool cut_by_frame_edge = false; ///< some object pixels lie outside the frame
  int area = 0;         ///< visible object pixels (holes excluded)
  int full_area = 0;    ///< all object pixels (holes excluded)
  int holes = 0;        ///< number of holes in the shape
  double opacity = 0;   ///< mean 1 - transmission over the object pixels
  std::string crop;     ///< kind "crop": crop file name
  std::string flip;     ///< kind "crop": "none", "h", "v" or "hv"
  cv::Rect paste_rect;  ///< kind "crop": the pasted crop rectangle (may leave the frame)
  bool stuck = false;   ///< stuck on the glass (synth_options::stuck)
  /// Placed on a seam of synth_options::seam_grids: "corner", "seam_v",
  /// "seam_h", "three_tiles", "hole_on_seam", "hole_on_corner", "border" or
  /// "near_seam"; empty for the other particles.
  std::string seam;
  cv::Size seam_grid;   ///< that grid's tile size
  int tiles = 0;        ///< tile cores of that grid holding visible object pixels
  cv::Rect hole_bbox;   ///< seam particles with a hole: the hole's pixels
};

/// Ground truth of one rendered frame.
struct synth_frame_truth {
  int index = 0;        ///< frame index (time order among the good frames)
  double gain = 1;      ///< per-frame LED flicker gain, ~N(1, 0.002²)
  int drawn = 0;        ///< particles drawn from Poisson(objects)
  int dropped = 0;      ///< drawn particles that found no free place
  int seam_dropped = 0; ///< seam particles (synth_options::seam_grids) with no free place
  std::vector<synth_object> objects;
};

/// A faint defect on the flow-cell glass, part of the illumination.
struct synth_dust {
  double x = 0, y = 0;  ///< centre, px
  double radius = 0;    ///< speck: gaussian sigma; ring: ring radius, px
  double depth = 0;     ///< peak absorption, (0, 0.15]
  bool ring = false;    ///< ring profile exp(-(d - r)² / (2 (0.18 r)²))
};

/// Parameters of the illumination field. Per pixel (x, y) with
/// r² = ((x - axis_x)² + (y - axis_y)²) / ((w/2)² + (h/2)²):
///   lum = centre_level × (1 - a r² - b r⁴)
///         × (1 + gx (2x/w - 1) + gy (2y/h - 1)) × Π_dust (1 - depth profile)
///   illumination[c] = lum × tint_bgr[c]
struct synth_illumination_params {
  double centre_level = 236;      ///< grey level on the optical axis
  double axis_x = 0, axis_y = 0;  ///< optical axis, px (off-centre by <= 5 %)
  double vignette_a = 0.22;       ///< r² coefficient
  double vignette_b = 0.07;       ///< r⁴ coefficient
  double gradient_x = 0;          ///< relative slope, [-0.03, 0.03]
  double gradient_y = 0;          ///< relative slope, [-0.03, 0.03]
  std::array<double, 3> tint_bgr{0.95, 1.0, 0.985}; ///< channel factors
  std::vector<synth_dust> dust;
};

/// Renders the frames of one acquisition in memory, without files. Frames
/// are independent: frame(i) depends only on the options and i.
class synth_generator {
public:
  /// Builds the illumination and, with `opts.crops`, loads the crop pool.
  /// @pre validate(opts) is empty. Throws std::runtime_error if the crop
  /// folder holds no usable crop.
  explicit synth_generator(const synth_options& opts);
  ~synth_generator();
  synth_generator(synth_generator&&) noexcept;
  synth_generator& operator=(synth_generator&&) noexcept;

  /// The illumination parameters (same for every frame).
  const synth_illumination_params& illumination() const;

  /// Luminance of the illumination, CV_32FC1 height×width, grey levels
  /// before tint and gain.
  const cv::Mat1f& luminance() const;

  /// Frame `index` (any index >= 0; the acquisition uses 0..frames-1 and
  /// `frames` for the truncated fault): CV_8UC3 BGR height×width, values
  /// in [1, 255], before JPEG. Fills `truth` if not null.
  cv::Mat3b frame(int index, synth_frame_truth* truth = nullptr) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Raised when the acquisition folder already holds frames made with other
/// options (or of unknown origin); nothing was written.
struct synth_conflict : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// What generate_acquisition wrote.
struct synth_result {
  std::filesystem::path acquisition_dir; ///< out/img/<date>/<sample>/<acq>
  std::filesystem::path ground_truth;    ///< out/ground_truth.json
  std::vector<std::filesystem::path> frames;     ///< good frames, time order
  std::vector<std::filesystem::path> bad_files;  ///< faulty files (--bad)
  std::vector<synth_frame_truth> truth;          ///< per good frame
  int total_objects = 0;                         ///< over the good frames
};

/// Writes one acquisition under `opts.out`:
/// - img/<YYYYMMDD>/synth-<seed>/<acq_id>/ with the frames, named
///   %Y-%m-%d_%H-%M-%S-%f.jpg (UTC-like, ~2 s apart, start time from the
///   seed), integrity.check (upstream format) and metadata.json (the
///   imager's keys, 4-space indent), metadata.json last;
/// - ground_truth.json (options, illumination, per-frame objects, faults);
///   it describes the last acquisition written into `opts.out`.
/// Every file is written to a hidden temporary name in its folder and then
/// renamed. If the acquisition folder already has .jpg files, they are
/// overwritten (byte-identically) when out/ground_truth.json records the same
/// options; otherwise synth_conflict is thrown before anything is written.
/// @pre validate(opts) is empty. Throws std::runtime_error on I/O errors.
synth_result generate_acquisition(const synth_options& opts);

/// The acquisition id for `opts`:
/// "synth-<seed>-<frames>f-<width>x<height>-k<objects>[-crops][-bad][-s<stuck>]
/// [-d<dense_first>+<dense_count>k<dense_objects>][-g<W>x<H>[+<W>x<H>...]]".
std::string synth_acq_id(const synth_options& opts);

} // namespace seg
