#include "kernels/objects.hpp"

#include <cmath>
#include <random>
#include <utility>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace seg::kernels;

namespace {

// Plain flood-fill labelling in raster order, 8-connected: the behaviour of
// skimage.measure.label that label_regions must reproduce.
cv::Mat naive_labels(const cv::Mat& mask, int& count) {
  cv::Mat labels(mask.size(), CV_32SC1, cv::Scalar(0));
  count = 0;
  std::vector<cv::Point> stack;
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x) {
      if (!mask.at<std::uint8_t>(y, x) || labels.at<int>(y, x))
        continue;
      ++count;
      labels.at<int>(y, x) = count;
      stack.push_back({x, y});
      while (!stack.empty()) {
        const cv::Point p = stack.back();
        stack.pop_back();
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const cv::Point q(p.x + dx, p.y + dy);
            if (q.x < 0 || q.y < 0 || q.x >= mask.cols || q.y >= mask.rows)
              continue;
            if (mask.at<std::uint8_t>(q) && !labels.at<int>(q)) {
              labels.at<int>(q) = count;
              stack.push_back(q);
            }
          }
      }
    }
  return labels;
}

void check_against_naive(const cv::Mat& mask) {
  int n = 0;
  const cv::Mat want = naive_labels(mask, n);
  const labelling got = label_regions(mask);
  const cv::Mat labels = label_image(got);
  REQUIRE(labels.type() == CV_32SC1);
  REQUIRE(labels.size() == mask.size());
  REQUIRE(got.regions.size() == static_cast<std::size_t>(n));
  CHECK(cv::countNonZero(labels != want) == 0);
  // Per-label area and bbox of the flood fill, in one pass.
  std::vector<int> area(static_cast<std::size_t>(n) + 1, 0);
  std::vector<cv::Rect> box(static_cast<std::size_t>(n) + 1);
  for (int y = 0; y < want.rows; ++y)
    for (int x = 0; x < want.cols; ++x) {
      const auto l = static_cast<std::size_t>(want.at<int>(y, x));
      if (!l)
        continue;
      ++area[l];
      box[l] = area[l] == 1 ? cv::Rect(x, y, 1, 1) : (box[l] | cv::Rect(x, y, 1, 1));
    }
  int bad_area = 0, bad_bbox = 0, bad_label = 0, bad_mask = 0;
  for (int l = 1; l <= n; ++l) {
    const auto li = static_cast<std::size_t>(l);
    const region& r = got.regions[li - 1];
    bad_label += r.label != l;
    bad_area += r.area != area[li];
    bad_bbox += r.bbox != box[li];
    if (r.bbox == box[li])
      bad_mask += cv::countNonZero(region_mask(got, r) != (want(box[li]) == l)) != 0;
  }
  CHECK(bad_label == 0);
  CHECK(bad_area == 0);
  CHECK(bad_bbox == 0);
  CHECK(bad_mask == 0);
}

cv::Mat blank(int w = 64, int h = 48) { return cv::Mat(h, w, CV_8UC1, cv::Scalar(0)); }

} // namespace

TEST_CASE("label: disc, ring with a hole, L shape", "[kernel][objects]") {
  cv::Mat m = blank(100, 80);
  cv::circle(m, {20, 20}, 10, 255, cv::FILLED);
  cv::circle(m, {65, 40}, 15, 255, cv::FILLED);
  cv::circle(m, {65, 40}, 7, 0, cv::FILLED); // hole
  cv::rectangle(m, cv::Rect(5, 50, 4, 25), 255, cv::FILLED);
  cv::rectangle(m, cv::Rect(5, 71, 30, 4), 255, cv::FILLED);
  const labelling l = label_regions(m);
  REQUIRE(l.regions.size() == 3);
  // Raster order of first pixel: disc (row 10), ring (row 25), L (row 50).
  CHECK(l.regions[0].bbox == cv::Rect(10, 10, 21, 21));
  CHECK(l.regions[1].bbox == cv::Rect(50, 25, 31, 31));
  CHECK(l.regions[2].bbox == cv::Rect(5, 50, 30, 25));
  CHECK(l.regions[2].area == 4 * 25 + 26 * 4);
  cv::Mat ring = blank(100, 80);
  cv::circle(ring, {65, 40}, 15, 255, cv::FILLED);
  const int filled = cv::countNonZero(ring);
  cv::circle(ring, {65, 40}, 7, 0, cv::FILLED);
  CHECK(l.regions[1].area == cv::countNonZero(ring));
  CHECK(l.regions[1].area < filled); // holes excluded
  check_against_naive(m);
}

TEST_CASE("label: one-pixel lines and 8-connected diagonals", "[kernel][objects]") {
  cv::Mat m = blank();
  for (int i = 0; i < 20; ++i) {
    m.at<std::uint8_t>(2 + i, 2 + i) = 255;   // diagonal
    m.at<std::uint8_t>(25 + i, 40 - i) = 255; // anti-diagonal
    m.at<std::uint8_t>(46, 10 + i) = 255;     // horizontal line
    m.at<std::uint8_t>(2 + i, 60) = 255;      // vertical line
  }
  const labelling l = label_regions(m);
  REQUIRE(l.regions.size() == 4);
  CHECK(l.regions[0].bbox == cv::Rect(2, 2, 20, 20));
  CHECK(l.regions[1].bbox == cv::Rect(60, 2, 1, 20));
  CHECK(l.regions[2].bbox == cv::Rect(21, 25, 20, 20));
  CHECK(l.regions[3].bbox == cv::Rect(10, 46, 20, 1));
  for (const auto& r : l.regions)
    CHECK(r.area == 20);

  cv::Mat gap = blank(8, 8);
  gap.at<std::uint8_t>(1, 1) = 255;
  gap.at<std::uint8_t>(1, 3) = 255; // one-pixel gap: two regions
  gap.at<std::uint8_t>(4, 4) = 255;
  gap.at<std::uint8_t>(5, 5) = 255; // corner contact: one region
  CHECK(label_regions(gap).regions.size() == 3);
  check_against_naive(m);
  check_against_naive(gap);
}

TEST_CASE("label numbering follows the raster order of first pixels", "[kernel][objects]") {
  // B starts on row 0 right of A, A starts on row 1: B must be label 1 even
  // though A's 2x2 block comes first in a block-based scan.
  cv::Mat m = blank(16, 8);
  m.at<std::uint8_t>(1, 0) = 255;
  m.at<std::uint8_t>(2, 0) = 255;
  m.at<std::uint8_t>(0, 5) = 255;
  // A U shape whose arms meet only at the bottom: one label.
  cv::rectangle(m, cv::Rect(8, 2, 1, 5), 255, cv::FILLED);
  cv::rectangle(m, cv::Rect(12, 1, 1, 6), 255, cv::FILLED);
  cv::rectangle(m, cv::Rect(8, 6, 5, 1), 255, cv::FILLED);
  const labelling l = label_regions(m);
  REQUIRE(l.regions.size() == 3);
  CHECK(l.regions[0].bbox == cv::Rect(5, 0, 1, 1));
  CHECK(l.regions[1].bbox == cv::Rect(0, 1, 1, 2));
  CHECK(l.regions[2].bbox == cv::Rect(8, 1, 5, 6)); // first pixel (row 1, col 12)
  CHECK(label_image(l).at<int>(2, 0) == 2);
  CHECK(label_image(l).at<int>(6, 8) == 3);
  check_against_naive(m);
}

TEST_CASE("label matches a flood fill on random masks", "[kernel][objects]") {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 20; ++trial) {
    cv::Mat noise(97 + trial, 131, CV_8UC1);
    cv::randu(noise, 0, 100);
    const cv::Mat m = noise < (20 + 2 * trial); // from sparse specks to large clusters
    INFO("trial " << trial);
    check_against_naive(m);
  }
  // A large frame, so OpenCV's parallel labelling (several stripes) is used.
  cv::Mat big(1200, 900, CV_8UC1);
  cv::randu(big, 0, 100);
  check_against_naive(big < 35);
}

TEST_CASE("label: empty frame and all-object frame", "[kernel][objects]") {
  const labelling e = label_regions(blank());
  CHECK(e.regions.empty());
  CHECK(e.runs.empty());
  CHECK(cv::countNonZero(label_image(e)) == 0);
  const labelling f = label_regions(cv::Mat(48, 64, CV_8UC1, cv::Scalar(255)));
  REQUIRE(f.regions.size() == 1);
  CHECK(f.regions[0].bbox == cv::Rect(0, 0, 64, 48));
  CHECK(f.regions[0].area == 64 * 48);
  CHECK(f.runs.size() == 48);
  CHECK(cv::countNonZero(region_mask(f, f.regions[0])) == 64 * 48);
  CHECK_THROWS_AS(label_regions(cv::Mat(4, 4, CV_8UC3)), cv::Exception);
}

TEST_CASE("size filter: ESD >= 20 px means area >= 315 px, and the micrometre threshold",
          "[kernel][objects]") {
  std::vector<region> rs(4);
  rs[0].label = 1, rs[0].area = 314; // ESD 19.995
  rs[1].label = 2, rs[1].area = 315; // ESD 20.026
  rs[2].label = 3, rs[2].area = 558; // ESD 26.655
  rs[3].label = 4, rs[3].area = 559; // ESD 26.679
  const auto px = filter_regions(rs, {});
  REQUIRE(px.size() == 3);
  CHECK(px[0].label == 2);
  CHECK(px[1].label == 3);
  CHECK(px[2].label == 4);
  // 20 um at 0.75 um/px = 26.667 px.
  const auto um = filter_regions(rs, {20, 0.75});
  REQUIRE(um.size() == 1);
  CHECK(um[0].label == 4);
}

TEST_CASE("crop_rect pads by 10 px and clamps at the frame edges", "[kernel][objects]") {
  const cv::Size frame(100, 80);
  CHECK(crop_rect({30, 20, 5, 6}, frame) == cv::Rect(20, 10, 25, 26));
  CHECK(crop_rect({0, 0, 5, 5}, frame) == cv::Rect(0, 0, 15, 15));
  CHECK(crop_rect({4, 9, 5, 5}, frame) == cv::Rect(0, 0, 19, 24));
  CHECK(crop_rect({95, 70, 5, 10}, frame) == cv::Rect(85, 60, 15, 20));
  CHECK(crop_rect({85, 62, 5, 8}, frame) == cv::Rect(75, 52, 25, 28)); // stop + 10 == max
  CHECK(crop_rect({0, 0, 100, 80}, frame) == cv::Rect(0, 0, 100, 80));
  CHECK(crop_rect({30, 20, 5, 6}, frame, 0) == cv::Rect(30, 20, 5, 6));
}

TEST_CASE("measure_regions passes each region's own tight mask", "[kernel][objects]") {
  cv::Mat m = blank(100, 80);
  cv::circle(m, {30, 30}, 12, 255, cv::FILLED);
  cv::circle(m, {30, 30}, 4, 0, cv::FILLED);
  // A 2x2 region in the corner of the disc's bbox (first in raster order)
  // must not leak into the disc's mask.
  cv::rectangle(m, cv::Rect(18, 18, 2, 2), 255, cv::FILLED);
  cv::rectangle(m, cv::Rect(60, 50, 20, 10), 255, cv::FILLED);
  cv::Mat corrected(m.size(), CV_8UC3, cv::Scalar::all(245));
  corrected.setTo(cv::Scalar(40, 60, 80), m);
  const labelling l = label_regions(m);
  REQUIRE(l.regions.size() == 3);
  REQUIRE(l.regions[0].area == 4);
  const std::vector<region> kept{l.regions[1], l.regions[2]};
  const auto f = measure_regions(l, kept, corrected);
  REQUIRE(f.size() == 2);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    CHECK(f[i].bx == kept[i].bbox.x);
    CHECK(f[i].by == kept[i].bbox.y);
    CHECK(f[i].width == kept[i].bbox.width);
    CHECK(f[i].height == kept[i].bbox.height);
    CHECK(f[i].area_exc == static_cast<double>(kept[i].area));
  }
  CHECK(f[0].euler_number == 0); // one hole
  CHECK(f[1].area == 200);
}

TEST_CASE("encode_crop_jpeg: decodes to the crop with BGR colours preserved",
          "[kernel][objects]") {
  cv::Mat img(60, 80, CV_8UC3, cv::Scalar(230, 40, 20)); // blue in BGR
  cv::rectangle(img, cv::Rect(40, 0, 40, 60), cv::Scalar(20, 40, 230), cv::FILLED); // red
  const cv::Rect rect(10, 5, 60, 40);
  const auto jpeg = encode_crop_jpeg(img, rect);
  REQUIRE(jpeg.size() > 2);
  CHECK(jpeg[0] == 0xFF);
  CHECK(jpeg[1] == 0xD8);
  const cv::Mat back = cv::imdecode(jpeg, cv::IMREAD_COLOR);
  REQUIRE(back.size() == rect.size());
  const cv::Vec3b blue = back.at<cv::Vec3b>(20, 10);
  const cv::Vec3b red = back.at<cv::Vec3b>(20, 50);
  CHECK(blue[0] > 200);
  CHECK(blue[2] < 50);
  CHECK(red[2] > 200);
  CHECK(red[0] < 50);
  const auto small = encode_crop_jpeg(img, rect, 10);
  CHECK(small.size() < jpeg.size());
  CHECK_THROWS_AS(encode_crop_jpeg(img, cv::Rect(70, 0, 20, 10)), cv::Exception);
}
