#include "actors/tile_codec.hpp"

#include <stdexcept>
#include <utility>

#include "actors/feature_vector.hpp"

namespace seg {

kernels::tile_layout to_layout(const tile_grid& grid) {
  kernels::tile_layout layout;
  layout.frame = {grid.frame_width, grid.frame_height};
  layout.tile = {grid.tile_width, grid.tile_height};
  layout.halo = grid.halo;
  return layout;
}

tile_grid to_grid(const kernels::tile_layout& layout) {
  tile_grid grid;
  grid.frame_width = layout.frame.width;
  grid.frame_height = layout.frame.height;
  grid.tile_width = layout.tile.width;
  grid.tile_height = layout.tile.height;
  grid.halo = layout.halo;
  return grid;
}

kernels::segment_params to_kernel_params(const segment_params& params) {
  kernels::segment_params p;
  p.min_esd_px = params.min_esd_px;
  p.crop_margin = params.crop_margin;
  p.jpeg_quality = params.jpeg_quality;
  p.mask.remove_previous_mask = params.remove_previous_mask;
  return p;
}

namespace {

// A region's first pixel and bbox, the same fields in both message forms.
template <class Message>
void put_place(Message& m, const cv::Point& first, const cv::Rect& bbox) {
  m.first_x = first.x;
  m.first_y = first.y;
  m.bbox_x = bbox.x;
  m.bbox_y = bbox.y;
  m.bbox_width = bbox.width;
  m.bbox_height = bbox.height;
}

template <class Message, class Region>
void take_place(const Message& m, Region& r) {
  r.first = {m.first_x, m.first_y};
  r.bbox = {m.bbox_x, m.bbox_y, m.bbox_width, m.bbox_height};
}

} // namespace

void fill_report(kernels::tile_result&& result, tile_report& report) {
  report.objects.reserve(result.objects.size());
  for (auto& o : result.objects) {
    tile_object m;
    put_place(m, o.first, o.bbox);
    m.features = to_vector(o.features);
    m.crop_jpeg = std::move(o.crop_jpeg);
    report.objects.push_back(std::move(m));
  }
  report.pieces.reserve(result.pieces.size());
  for (auto& p : result.pieces) {
    tile_piece_record m;
    put_place(m, p.first, p.bbox);
    m.area = p.area;
    m.seams = p.seams;
    m.runs.reserve(p.runs.size() * 3);
    for (auto& r : p.runs) {
      m.runs.push_back(r.y);
      m.runs.push_back(r.x_begin);
      m.runs.push_back(r.x_end);
    }
    report.pieces.push_back(std::move(m));
  }
}

kernels::tile_result to_tile_result(const tile_report& report) {
  kernels::tile_result result;
  result.tile = report.tile;
  result.objects.reserve(report.objects.size());
  for (auto& m : report.objects) {
    kernels::frame_object o;
    take_place(m, o);
    o.features = from_vector(m.features);
    o.crop_jpeg = m.crop_jpeg;
    result.objects.push_back(std::move(o));
  }
  result.pieces.reserve(report.pieces.size());
  for (auto& m : report.pieces) {
    if (m.runs.size() % 3 != 0)
      throw std::invalid_argument("tile piece: run list of " + std::to_string(m.runs.size())
                                  + " values is not (y, x_begin, x_end) triples");
    kernels::tile_piece p;
    take_place(m, p);
    p.area = m.area;
    p.seams = m.seams;
    p.runs.reserve(m.runs.size() / 3);
    for (std::size_t i = 0; i < m.runs.size(); i += 3)
      p.runs.push_back({m.runs[i], m.runs[i + 1], m.runs[i + 2]});
    result.pieces.push_back(std::move(p));
  }
  return result;
}

} // namespace seg
