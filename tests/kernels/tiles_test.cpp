// Tiled segmentation against untiled: every feature column and every crop
// byte of every object, in the same order, on random frames with tiny tiles
// and on shapes placed across seams and corners.
#include "kernels/stitch.hpp"
#include "kernels/tiles.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "actors/io/feature_table.hpp"

using namespace seg::kernels;

namespace {

// A raw frame and its flat: objects darken a flat-like background.
struct scene {
  cv::Mat raw;
  cv::Mat flat;
};

scene make_scene(cv::Size size, std::mt19937& rng) {
  scene s;
  s.flat.create(size, CV_8UC3);
  cv::randu(s.flat, cv::Scalar(170, 175, 180), cv::Scalar(215, 220, 225));
  cv::Mat shade(size, CV_8UC3, cv::Scalar(255, 255, 255));
  std::uniform_int_distribution<int> ux(0, size.width - 1), uy(0, size.height - 1);
  std::uniform_int_distribution<int> radius(2, 40), dark(40, 200), kind(0, 3), angle(0, 179);
  const int objects = std::uniform_int_distribution<int>(3, 14)(rng);
  for (int i = 0; i < objects; ++i) {
    const cv::Point c(ux(rng), uy(rng));
    const cv::Scalar colour(dark(rng), dark(rng), dark(rng));
    const cv::Size axes(radius(rng), radius(rng));
    switch (kind(rng)) {
      case 0: // a filled ellipse
        cv::ellipse(shade, c, axes, angle(rng), 0, 360, colour, cv::FILLED);
        break;
      case 1: // a ring: a hole that may cross a seam
        cv::ellipse(shade, c, axes, angle(rng), 0, 360, colour,
                    std::uniform_int_distribution<int>(3, 8)(rng));
        break;
      case 2: // a long thick line across several tiles
        cv::line(shade, c, {ux(rng), uy(rng)}, colour,
                 std::uniform_int_distribution<int>(3, 9)(rng));
        break;
      default: // a blob of small pieces that the morphology may join
        for (int k = 0; k < 6; ++k)
          cv::circle(shade, c + cv::Point(radius(rng) - 20, radius(rng) - 20),
                     std::uniform_int_distribution<int>(2, 7)(rng), colour, cv::FILLED);
        break;
    }
  }
  cv::Mat noise(size, CV_8UC3);
  cv::randu(noise, cv::Scalar(0, 0, 0), cv::Scalar(12, 12, 12));
  cv::subtract(shade, noise, shade);
  cv::multiply(s.flat, shade, s.raw, 1.0 / 255);
  return s;
}

std::vector<frame_object> untiled(const scene& s, const segment_params& p,
                                  cv::Mat* previous = nullptr) {
  cv::Mat corrected, gray;
  gray_histogram hist;
  correct_frame_gray(s.raw, s.flat, corrected, gray, hist);
  const mask_result m = make_mask(gray, hist, p.mask, previous);
  const labelling l = label_regions(m.mask);
  size_filter_params fp;
  fp.min_esd = p.min_esd_px;
  const auto kept = filter_regions(l.regions, fp);
  const auto features = measure_regions(l, kept, corrected);
  std::vector<frame_object> out;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    frame_object o;
    o.first = {l.runs[kept[i].run_begin].x_begin, l.runs[kept[i].run_begin].y};
    o.bbox = kept[i].bbox;
    o.features = features[i];
    o.crop_jpeg = encode_crop_jpeg(corrected, crop_rect(o.bbox, corrected.size(), p.crop_margin),
                                   p.jpeg_quality);
    out.push_back(std::move(o));
  }
  return out;
}

// Each tile corrected from its own extent of raw and flat, the threshold
// from the sum of the core histograms, tiles stitched in `order`.
struct tiled_run {
  std::vector<frame_object> objects;
  int threshold = 0;
  std::size_t merged = 0;
  std::size_t most_pieces_held = 0;
};

cv::Mat corrected_region(const scene& s, const cv::Rect& r, cv::Mat* gray_out = nullptr) {
  cv::Mat out, gray;
  gray_histogram h;
  correct_region_gray(s.raw(r), s.flat(r), r.tl(), out, gray, h);
  if (gray_out)
    *gray_out = gray;
  return out;
}

tiled_run tiled(const scene& s, cv::Size tile, const segment_params& p,
                const std::vector<int>& order, std::vector<cv::Mat>* previous = nullptr) {
  const tile_layout layout = make_tile_layout(s.raw.size(), tile, p);
  gray_histogram sum{};
  for (int t = 0; t < layout.count(); ++t) {
    cv::Mat gray;
    corrected_region(s, layout.extent(t), &gray);
    add_histogram(sum, core_histogram(layout, t, gray));
  }
  tiled_run run;
  run.threshold = triangle_threshold(sum);
  tile_stitcher stitcher(layout, p, [&](const cv::Rect& r) { return corrected_region(s, r); });
  for (int t : order) {
    cv::Mat gray;
    const cv::Mat corrected = corrected_region(s, layout.extent(t), &gray);
    cv::Mat* prev = previous ? &(*previous)[static_cast<std::size_t>(t)] : nullptr;
    stitcher.add(segment_tile(layout, t, corrected, gray, run.threshold, p, prev));
    run.most_pieces_held = std::max(run.most_pieces_held, stitcher.pieces_held());
  }
  REQUIRE(stitcher.complete());
  CHECK(stitcher.pieces_held() == 0);
  run.merged = stitcher.merged_objects();
  run.objects = stitcher.take_objects();
  return run;
}

std::vector<int> raster_order(const tile_layout& l) {
  std::vector<int> order(static_cast<std::size_t>(l.count()));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every column bit for bit (NaN included) and every crop byte.
void require_equal(const std::vector<frame_object>& want, const std::vector<frame_object>& got,
                   const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("object " << i << " at " << want[i].bbox);
    REQUIRE(got[i].bbox == want[i].bbox);
    REQUIRE(got[i].first == want[i].first);
    for (const auto& c : seg::io::detail::feature_columns) {
      INFO("column " << c.tsv_name);
      if (c.int_member)
        REQUIRE(got[i].features.*c.int_member == want[i].features.*c.int_member);
      else
        REQUIRE(same_bits(got[i].features.*c.real_member, want[i].features.*c.real_member));
    }
    REQUIRE(got[i].crop_jpeg == want[i].crop_jpeg);
  }
}

segment_params small_objects() {
  segment_params p;
  p.min_esd_px = 6; // small frames: keep small objects too
  return p;
}

} // namespace

TEST_CASE("tiled segmentation equals untiled on 200 random frames with 64x64 tiles",
          "[tiles]") {
  std::size_t objects = 0, merged = 0;
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    const cv::Size size(std::uniform_int_distribution<int>(100, 330)(rng),
                        std::uniform_int_distribution<int>(90, 260)(rng));
    const scene s = make_scene(size, rng);
    segment_params p = small_objects();
    if (seed % 5 == 0)
      p.min_esd_px = 20; // the default filter
    if (seed % 7 == 0)
      p.mask.morphology = morphology_impl::opencv;
    const auto want = untiled(s, p);
    const tile_layout layout = make_tile_layout(size, {64, 64}, p);
    std::vector<int> order = raster_order(layout);
    std::shuffle(order.begin(), order.end(), rng); // tiles complete in any order
    const tiled_run got = tiled(s, {64, 64}, p, order);
    require_equal(want, got.objects, "seed " + std::to_string(seed));
    objects += want.size();
    merged += got.merged;
  }
  // The frames must exercise the merge, not only whole-tile objects.
  CHECK(objects > 500);
  CHECK(merged > 300);
}

TEST_CASE("tile layout: cores partition the frame, extents carry the morphology's reach",
          "[tiles]") {
  segment_params p;
  CHECK(morphology_reach(p.mask) == 17); // 2x2 rect: 1, four 8x8 ellipse steps: 4 each
  const tile_layout l = make_tile_layout({300, 200}, {64, 64}, p);
  CHECK(l.halo == 17);
  CHECK(l.cols() == 5);
  CHECK(l.rows() == 4);
  cv::Mat cover(200, 300, CV_8UC1, cv::Scalar(0));
  for (int t = 0; t < l.count(); ++t) {
    cover(l.core(t)) += 1;
    const cv::Rect e = l.extent(t);
    CHECK((e & cv::Rect(0, 0, 300, 200)) == e);
  }
  CHECK(cv::countNonZero(cover != 1) == 0);
  CHECK(l.core(4) == cv::Rect(256, 0, 44, 64));
  CHECK(l.extent(6) == cv::Rect(64 - 17, 64 - 17, 64 + 34, 64 + 34));
  p.crop_margin = 30; // crops of whole objects stay inside the tile
  CHECK(make_tile_layout({300, 200}, {64, 64}, p).halo == 30);
}

TEST_CASE("objects across a corner, over three tiles, with a hole on a seam, on the border",
          "[tiles]") {
  const cv::Size size(320, 256);
  cv::Mat flat(size, CV_8UC3, cv::Scalar(200, 205, 210));
  cv::Mat shade(size, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar ink(60, 70, 80);
  cv::circle(shade, {64, 64}, 14, ink, cv::FILLED);             // on a tile corner
  cv::rectangle(shade, {10, 100}, {200, 112}, ink, cv::FILLED); // over four tiles in a row
  cv::circle(shade, {128, 190}, 22, ink, 6);                   // its hole crosses two seams
  cv::rectangle(shade, {0, 0}, {30, 20}, ink, cv::FILLED);      // the frame's corner
  cv::rectangle(shade, {300, 40}, {319, 90}, ink, cv::FILLED);  // right border, over y=64
  cv::line(shade, {150, 10}, {260, 50}, ink, 5);               // diagonal over seams
  // An L over three tiles whose bbox and crop cover a fourth it never enters.
  cv::rectangle(shade, {230, 150}, {245, 250}, ink, cv::FILLED);
  cv::rectangle(shade, {230, 235}, {310, 250}, ink, cv::FILLED);
  scene s;
  s.flat = flat;
  cv::multiply(flat, shade, s.raw, 1.0 / 255);
  const segment_params p = small_objects();
  const auto want = untiled(s, p);
  REQUIRE(want.size() == 7);
  const tile_layout layout = make_tile_layout(size, {64, 64}, p);
  auto order = raster_order(layout);
  SECTION("raster order") {
    const auto got = tiled(s, {64, 64}, p, order);
    require_equal(want, got.objects, "raster");
    CHECK(got.merged == 6); // all but the corner rectangle
  }
  SECTION("reverse order") {
    std::reverse(order.begin(), order.end());
    require_equal(want, tiled(s, {64, 64}, p, order).objects, "reverse");
  }
  SECTION("other tile sizes, one tile") {
    for (cv::Size t : {cv::Size(50, 70), cv::Size(128, 96), cv::Size(17, 300), cv::Size(320, 256)}) {
      const auto l = make_tile_layout(size, t, p);
      require_equal(want, tiled(s, t, p, raster_order(l)).objects,
                    std::to_string(t.width) + "x" + std::to_string(t.height));
    }
  }
}

TEST_CASE("tiled remove_previous_mask: each tile keeps the previous frame's step-0 mask over "
          "its extent", "[tiles]") {
  std::mt19937 rng(77);
  const cv::Size size(240, 180);
  segment_params p = small_objects();
  p.mask.remove_previous_mask = true;
  cv::Mat untiled_state;
  const tile_layout layout = make_tile_layout(size, {64, 64}, p);
  std::vector<cv::Mat> tiled_state(static_cast<std::size_t>(layout.count()));
  std::size_t compared = 0;
  for (int frame = 0; frame < 4; ++frame) {
    const scene s = make_scene(size, rng);
    const auto want = untiled(s, p, &untiled_state);
    auto order = raster_order(layout);
    std::shuffle(order.begin(), order.end(), rng);
    const auto got = tiled(s, {64, 64}, p, order, &tiled_state);
    require_equal(want, got.objects, "frame " + std::to_string(frame));
    compared += want.size();
  }
  CHECK(compared > 10);
}

TEST_CASE("the stitcher holds a piece only while a tile it touches is missing", "[tiles]") {
  const cv::Size size(192, 64);
  cv::Mat flat(size, CV_8UC3, cv::Scalar(200, 200, 200));
  cv::Mat shade(size, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(shade, {20, 20}, {170, 40}, cv::Scalar(50, 50, 50), cv::FILLED);
  scene s;
  s.flat = flat;
  cv::multiply(flat, shade, s.raw, 1.0 / 255);
  const segment_params p = small_objects();
  const tile_layout layout = make_tile_layout(size, {64, 64}, p);
  REQUIRE(layout.count() == 3);
  cv::Mat gray;
  gray_histogram sum{};
  for (int t = 0; t < 3; ++t) {
    corrected_region(s, layout.extent(t), &gray);
    add_histogram(sum, core_histogram(layout, t, gray));
  }
  const int threshold = triangle_threshold(sum);
  tile_stitcher st(layout, p, [&](const cv::Rect& r) { return corrected_region(s, r); });
  auto add = [&](int t) {
    const cv::Mat c = corrected_region(s, layout.extent(t), &gray);
    st.add(segment_tile(layout, t, c, gray, threshold, p));
  };
  add(0);
  CHECK(st.pieces_held() == 1);
  add(2);
  CHECK(st.pieces_held() == 2);
  CHECK_FALSE(st.complete());
  add(1);
  CHECK(st.pieces_held() == 0);
  CHECK(st.runs_held() == 0);
  REQUIRE(st.complete());
  const auto objects = st.take_objects();
  REQUIRE(objects.size() == 1);
  CHECK(st.merged_objects() == 1);
  require_equal(untiled(s, p), objects, "bar");
}
