#include "kernels/objects.hpp"

#include "kernels/jpeg_encode.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace seg::kernels {

namespace {

inline bool has_zero_byte(std::uint64_t v) {
  return ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0;
}

// Appends the foreground runs of one mask row, skipping 8 bytes at a time.
void find_runs(const std::uint8_t* p, int width, int y, std::vector<pixel_run>& out) {
  int x = 0;
  while (x < width) {
    for (std::uint64_t v; x + 8 <= width; x += 8) {
      std::memcpy(&v, p + x, 8);
      if (v != 0)
        break;
    }
    while (x < width && p[x] == 0)
      ++x;
    if (x == width)
      break;
    const int begin = x;
    for (std::uint64_t v; x + 8 <= width; x += 8) {
      std::memcpy(&v, p + x, 8);
      if (has_zero_byte(v))
        break;
    }
    while (x < width && p[x] != 0)
      ++x;
    out.push_back({y, begin, x});
  }
}

std::uint32_t find_root(std::vector<std::uint32_t>& parent, std::uint32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

// The root is always the smaller index, i.e. the component's earliest run.
void unite(std::vector<std::uint32_t>& parent, std::uint32_t a, std::uint32_t b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a < b)
    parent[b] = a;
  else if (b < a)
    parent[a] = b;
}

} // namespace

labelling label_regions(const cv::Mat& mask) {
  CV_Assert(mask.type() == CV_8UC1);
  labelling out;
  out.size = mask.size();
  std::vector<pixel_run> runs;
  std::vector<std::uint32_t> parent;
  std::size_t prev_begin = 0, prev_end = 0;
  for (int y = 0; y < mask.rows; ++y) {
    const std::size_t row_begin = runs.size();
    find_runs(mask.ptr<std::uint8_t>(y), mask.cols, y, runs);
    const std::size_t row_end = runs.size();
    for (std::size_t i = row_begin; i < row_end; ++i)
      parent.push_back(static_cast<std::uint32_t>(i));
    // Runs a (row above) and b touch 8-connectedly iff a.x_begin <= b.x_end
    // and b.x_begin <= a.x_end (ends are exclusive).
    std::size_t a = prev_begin;
    for (std::size_t b = row_begin; b < row_end; ++b) {
      while (a < prev_end && runs[a].x_end < runs[b].x_begin)
        ++a;
      for (std::size_t k = a; k < prev_end && runs[k].x_begin <= runs[b].x_end; ++k)
        unite(parent, static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(b));
    }
    prev_begin = row_begin;
    prev_end = row_end;
  }
  // Roots in increasing run order are the regions in raster order of their
  // first pixel (a region's first pixel starts its earliest run).
  std::vector<std::uint32_t> label(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::uint32_t r = find_root(parent, static_cast<std::uint32_t>(i));
    if (r == i) {
      region g;
      g.label = static_cast<int>(out.regions.size()) + 1;
      g.bbox = {runs[i].x_begin, runs[i].y, 0, 0};
      out.regions.push_back(g);
      label[i] = static_cast<std::uint32_t>(out.regions.size());
    } else {
      label[i] = label[r];
    }
  }
  // Counting sort of the runs by label; bbox (as x1/y1 for now) and area.
  std::vector<int> x1(out.regions.size(), 0), y1(out.regions.size(), 0);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::size_t l = label[i] - 1;
    region& g = out.regions[l];
    ++g.run_end;
    g.area += runs[i].x_end - runs[i].x_begin;
    g.bbox.x = std::min(g.bbox.x, runs[i].x_begin);
    x1[l] = std::max(x1[l], runs[i].x_end);
    y1[l] = runs[i].y + 1;
  }
  std::uint32_t offset = 0;
  for (std::size_t l = 0; l < out.regions.size(); ++l) {
    region& g = out.regions[l];
    g.bbox.width = x1[l] - g.bbox.x;
    g.bbox.height = y1[l] - g.bbox.y;
    g.run_begin = offset;
    offset += g.run_end;
    g.run_end = g.run_begin;
  }
  out.runs.resize(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i)
    out.runs[out.regions[label[i] - 1].run_end++] = runs[i];
  return out;
}

cv::Mat label_image(const labelling& labelled) {
  cv::Mat labels(labelled.size, CV_32SC1, cv::Scalar(0));
  for (const auto& g : labelled.regions)
    for (std::uint32_t i = g.run_begin; i < g.run_end; ++i) {
      const pixel_run& r = labelled.runs[i];
      std::fill(labels.ptr<int>(r.y) + r.x_begin, labels.ptr<int>(r.y) + r.x_end, g.label);
    }
  return labels;
}

cv::Mat region_mask(const labelling& labelled, const region& g) {
  CV_Assert(g.run_begin <= g.run_end && g.run_end <= labelled.runs.size());
  cv::Mat m(g.bbox.size(), CV_8UC1, cv::Scalar(0));
  for (std::uint32_t i = g.run_begin; i < g.run_end; ++i) {
    const pixel_run& r = labelled.runs[i];
    std::uint8_t* row = m.ptr<std::uint8_t>(r.y - g.bbox.y);
    std::fill(row + (r.x_begin - g.bbox.x), row + (r.x_end - g.bbox.x), std::uint8_t{255});
  }
  return m;
}

std::vector<region> filter_regions(const std::vector<region>& regions,
                                   const size_filter_params& params) {
  const double min_esd =
      params.pixel_size_um > 0 ? params.min_esd / params.pixel_size_um : params.min_esd;
  std::vector<region> kept;
  for (const auto& r : regions) {
    // skimage's equivalent_diameter_area, evaluated in the same order.
    const double esd = std::sqrt(4.0 * static_cast<double>(r.area) / M_PI);
    if (esd >= min_esd)
      kept.push_back(r);
  }
  return kept;
}

cv::Rect crop_rect(const cv::Rect& bbox, const cv::Size& frame, int margin) {
  const int x0 = std::max(bbox.x - margin, 0);
  const int y0 = std::max(bbox.y - margin, 0);
  const int x1 = std::min(bbox.x + bbox.width + margin, frame.width);
  const int y1 = std::min(bbox.y + bbox.height + margin, frame.height);
  return {x0, y0, x1 - x0, y1 - y0};
}

std::vector<object_features> measure_regions(const labelling& labelled,
                                             const std::vector<region>& kept,
                                             const cv::Mat& corrected) {
  CV_Assert(corrected.type() == CV_8UC3 && corrected.size() == labelled.size);
  std::vector<object_features> out;
  out.reserve(kept.size());
  for (const auto& r : kept)
    out.push_back(measure_region(region_mask(labelled, r), corrected(r.bbox), r.bbox));
  return out;
}

std::vector<std::uint8_t> encode_crop_jpeg(const cv::Mat& corrected, const cv::Rect& rect,
                                           int quality) {
  CV_Assert(corrected.type() == CV_8UC3);
  CV_Assert((rect & cv::Rect(0, 0, corrected.cols, corrected.rows)) == rect && !rect.empty());
  // libjpeg converts BGR to YCbCr itself, so decoders see the same colours as
  // PIL's RGB save of the converted crop.
  return encode_jpeg(corrected(rect), quality);
}

} // namespace seg::kernels
