#include "kernels/tiles.hpp"

#include <algorithm>

#include <opencv2/core.hpp>

namespace seg::kernels {

cv::Rect tile_layout::core(int index) const {
  const int tx = index % cols(), ty = index / cols();
  const int x = tx * tile.width, y = ty * tile.height;
  return {x, y, std::min(tile.width, frame.width - x), std::min(tile.height, frame.height - y)};
}

cv::Rect tile_layout::extent(int index) const {
  const cv::Rect c = core(index);
  const int x0 = std::max(c.x - halo, 0), y0 = std::max(c.y - halo, 0);
  const int x1 = std::min(c.x + c.width + halo, frame.width);
  const int y1 = std::min(c.y + c.height + halo, frame.height);
  return {x0, y0, x1 - x0, y1 - y0};
}

int tile_layout::neighbour(int index, int dx, int dy) const {
  const int tx = index % cols() + dx, ty = index / cols() + dy;
  if (tx < 0 || ty < 0 || tx >= cols() || ty >= rows())
    return -1;
  return ty * cols() + tx;
}

tile_layout make_tile_layout(cv::Size frame, cv::Size tile, const segment_params& p) {
  CV_Assert(tile.width >= 1 && tile.height >= 1);
  tile_layout l;
  l.frame = frame;
  l.tile = {std::min(tile.width, frame.width), std::min(tile.height, frame.height)};
  l.halo = std::max(morphology_reach(p.mask), p.crop_margin);
  return l;
}

cv::Point seam_offset(seam_bit bit) {
  switch (bit) {
    case seam_n: return {0, -1};
    case seam_s: return {0, 1};
    case seam_w: return {-1, 0};
    case seam_e: return {1, 0};
    case seam_nw: return {-1, -1};
    case seam_ne: return {1, -1};
    case seam_sw: return {-1, 1};
    case seam_se: return {1, 1};
  }
  return {0, 0};
}

seam_bit opposite(seam_bit bit) {
  switch (bit) {
    case seam_n: return seam_s;
    case seam_s: return seam_n;
    case seam_w: return seam_e;
    case seam_e: return seam_w;
    case seam_nw: return seam_se;
    case seam_ne: return seam_sw;
    case seam_sw: return seam_ne;
    case seam_se: return seam_nw;
  }
  return bit;
}

gray_histogram core_histogram(const tile_layout& layout, int tile, const cv::Mat& gray_extent) {
  const cv::Rect ext = layout.extent(tile);
  CV_Assert(gray_extent.type() == CV_8UC1 && gray_extent.size() == ext.size());
  const cv::Mat core = gray_extent(layout.core(tile) - ext.tl());
  gray_histogram h{};
  for (int y = 0; y < core.rows; ++y) {
    const std::uint8_t* g = core.ptr<std::uint8_t>(y);
    for (int x = 0; x < core.cols; ++x)
      ++h[g[x]];
  }
  return h;
}

void add_histogram(gray_histogram& a, const gray_histogram& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] += b[i];
}

namespace {

// The seams a core region touches: its pixels on the core's edges (and
// corners) that face another tile.
std::uint8_t region_seams(const tile_layout& layout, int tile, const labelling& l,
                          const region& r) {
  const cv::Size core = l.size;
  const cv::Rect& b = r.bbox;
  std::uint8_t seams = 0;
  auto mark = [&](seam_bit bit) {
    const cv::Point d = seam_offset(bit);
    if (layout.neighbour(tile, d.x, d.y) >= 0)
      seams |= bit;
  };
  if (b.y == 0)
    mark(seam_n);
  if (b.y + b.height == core.height)
    mark(seam_s);
  if (b.x == 0)
    mark(seam_w);
  if (b.x + b.width == core.width)
    mark(seam_e);
  for (std::uint32_t i = r.run_begin; i < r.run_end; ++i) {
    const pixel_run& run = l.runs[i];
    const bool top = run.y == 0, bottom = run.y == core.height - 1;
    const bool left = run.x_begin == 0, right = run.x_end == core.width;
    if (top && left)
      mark(seam_nw);
    if (top && right)
      mark(seam_ne);
    if (bottom && left)
      mark(seam_sw);
    if (bottom && right)
      mark(seam_se);
  }
  return seams;
}

std::vector<pixel_run> frame_runs(const labelling& l, const region& r, cv::Point offset) {
  std::vector<pixel_run> out(l.runs.begin() + r.run_begin, l.runs.begin() + r.run_end);
  for (auto& run : out) {
    run.y += offset.y;
    run.x_begin += offset.x;
    run.x_end += offset.x;
  }
  return out;
}

} // namespace

frame_object measure_runs(const std::vector<pixel_run>& runs, const cv::Rect& bbox,
                          cv::Size frame, const cv::Mat& pixels, const cv::Rect& pixels_rect,
                          const segment_params& p) {
  CV_Assert(!runs.empty() && pixels.type() == CV_8UC3 && pixels.size() == pixels_rect.size());
  const cv::Rect crop = crop_rect(bbox, frame, p.crop_margin);
  CV_Assert((crop & pixels_rect) == crop);
  cv::Mat mask(bbox.size(), CV_8UC1, cv::Scalar(0));
  for (const auto& r : runs) {
    std::uint8_t* row = mask.ptr<std::uint8_t>(r.y - bbox.y);
    std::fill(row + (r.x_begin - bbox.x), row + (r.x_end - bbox.x), std::uint8_t{255});
  }
  frame_object o;
  o.first = {runs.front().x_begin, runs.front().y};
  o.bbox = bbox;
  o.features = measure_region(mask, pixels(bbox - pixels_rect.tl()), bbox);
  o.crop_jpeg = encode_crop_jpeg(pixels, crop - pixels_rect.tl(), p.jpeg_quality);
  return o;
}

tile_result segment_tile(const tile_layout& layout, int tile, const cv::Mat& corrected_extent,
                         const cv::Mat& gray_extent, int threshold, const segment_params& p,
                         cv::Mat* previous_threshold_mask) {
  const cv::Rect ext = layout.extent(tile), core = layout.core(tile);
  CV_Assert(corrected_extent.type() == CV_8UC3 && corrected_extent.size() == ext.size());
  CV_Assert(gray_extent.type() == CV_8UC1 && gray_extent.size() == ext.size());
  const mask_result m = make_mask_at(gray_extent, threshold, p.mask, previous_threshold_mask);
  // Only the core's mask is the frame's: label it alone, so halo pixels
  // never join two core regions.
  const labelling l = label_regions(m.mask(core - ext.tl()));
  tile_result out;
  out.tile = tile;
  std::vector<region> whole;
  for (const auto& r : l.regions) {
    const std::uint8_t seams = region_seams(layout, tile, l, r);
    if (seams == 0) {
      whole.push_back(r);
      continue;
    }
    tile_piece piece;
    piece.runs = frame_runs(l, r, core.tl());
    piece.first = {piece.runs.front().x_begin, piece.runs.front().y};
    piece.bbox = r.bbox + core.tl();
    piece.area = r.area;
    piece.seams = seams;
    out.pieces.push_back(std::move(piece));
  }
  size_filter_params fp;
  fp.min_esd = p.min_esd_px;
  for (const auto& r : filter_regions(whole, fp))
    out.objects.push_back(measure_runs(frame_runs(l, r, core.tl()), r.bbox + core.tl(),
                                       layout.frame, corrected_extent, ext, p));
  return out;
}

} // namespace seg::kernels
