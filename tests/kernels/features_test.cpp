#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>

#include "kernels/features.hpp"

using seg::kernels::measure_region;
using seg::kernels::object_features;

namespace {

const double pi = std::acos(-1.0);
const double sqrt2 = std::sqrt(2.0);

// '#' = region pixel, '.' = not.
cv::Mat mask_from(const std::vector<std::string>& rows) {
  cv::Mat m(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()), CV_8UC1);
  for (int r = 0; r < m.rows; ++r)
    for (int c = 0; c < m.cols; ++c) m.at<std::uint8_t>(r, c) = rows[r][c] == '#' ? 255 : 0;
  return m;
}

object_features measure(const cv::Mat& mask, int bx = 0, int by = 0) {
  const cv::Mat crop(mask.size(), CV_8UC3, cv::Scalar(200, 200, 200));
  return measure_region(mask, crop, cv::Rect(bx, by, mask.cols, mask.rows));
}

} // namespace

TEST_CASE("single pixel: degenerate moments and zero perimeter", "[kernel][features]") {
  const auto f = measure(mask_from({"#"}), 7, 3);
  CHECK(f.width == 1);
  CHECK(f.height == 1);
  CHECK(f.bx == 7);
  CHECK(f.by == 3);
  CHECK(f.area_exc == 1);
  CHECK(f.area == 1);
  CHECK(f.convex_area == 1); // the diamond around the centre holds only the centre
  CHECK(f.euler_number == 1);
  // Its border code is 1 (no border neighbours), which has weight 0.
  CHECK(f.perimeter == 0);
  CHECK(f.major == 0);
  CHECK(f.minor == 0);
  CHECK(f.eccentricity == 0); // skimage returns 0 when lambda1 == 0
  // Inertia tensor is all zeros: a == c and b = -0.0 is not < 0, so pi/4.
  CHECK(f.angle == Approx(135.0));
  CHECK(f.y == 3);
  CHECK(f.x == 7);
  // numpy float division: x/0 -> inf, 0/0 -> nan.
  CHECK(std::isinf(f.circ));
  CHECK(std::isnan(f.elongation));
  CHECK(std::isnan(f.perim_major));
  CHECK(f.perim_area_exc == 0);
  CHECK(f.equivalent_diameter == Approx(std::sqrt(4 / pi)));
  CHECK(f.extent == 1);
  CHECK(f.solidity == 1);
}

TEST_CASE("horizontal and vertical lines", "[kernel][features]") {
  // Every pixel is a border pixel; the two ends have one 4-neighbour (code 3,
  // weight 0), the middle three have two (code 5, weight 1): perimeter 3.
  // Moments of columns 0..4 about 2: mu = 10, variance 2 -> major 4*sqrt(2).
  const auto h = measure(mask_from({"#####"}));
  CHECK(h.perimeter == 3);
  CHECK(h.convex_area == 5);
  CHECK(h.major == Approx(4 * sqrt2));
  CHECK(h.minor == 0);
  CHECK(h.eccentricity == 1);
  CHECK(std::isinf(h.elongation));
  // Tensor [[2, -0], [-0, 0]]: 0.5*atan2(+0, 0 - 2) = pi/2 -> 180 degrees.
  CHECK(h.angle == Approx(180.0));
  CHECK(h.local_centroid_col == 2);
  CHECK(h.local_centroid_row == 0);
  CHECK(h.circ == Approx(4 * pi * 5 / 9));

  const auto v = measure(mask_from({"#", "#", "#", "#", "#"}));
  CHECK(v.perimeter == 3);
  CHECK(v.major == Approx(4 * sqrt2));
  // Tensor [[0, 0], [0, 2]]: 0.5*atan2(0, 2) = 0 -> 90 degrees.
  CHECK(v.angle == Approx(90.0));
}

TEST_CASE("diagonal line", "[kernel][features]") {
  const auto f = measure(mask_from({"#....", ".#...", "..#..", "...#.", "....#"}));
  // Only diagonal border neighbours: ends code 11 (weight 0), middle code 21
  // (weight sqrt 2).
  CHECK(f.perimeter == Approx(3 * sqrt2));
  // The diamond hull is the strip |row - col| <= 1/2: only the diagonal.
  CHECK(f.convex_area == 5);
  // Tensor [[2, -2], [-2, 2]]: eigenvalues 4 and 0.
  CHECK(f.major == Approx(8.0));
  CHECK(f.minor == 0);
  // a == c and b < 0: skimage's special case gives -pi/4 -> 45 degrees.
  CHECK(f.angle == Approx(45.0));
  CHECK(f.euler_number == 1);
}

TEST_CASE("filled square", "[kernel][features]") {
  const auto f = measure(mask_from({"####", "####", "####", "####"}), 10, 20);
  CHECK(f.area_exc == 16);
  CHECK(f.area == 16);
  CHECK(f.percent_area == 0);
  // 12 ring pixels, each coded 5 (corners) or 15 (sides): weight 1 each.
  CHECK(f.perimeter == 12);
  CHECK(f.convex_area == 16);
  CHECK(f.bounding_box_area == 16);
  // mu20 = mu02 = 4*(2.25+0.25+0.25+2.25) = 20; variance 1.25 on both axes.
  CHECK(f.major == Approx(4 * std::sqrt(1.25)));
  CHECK(f.minor == Approx(4 * std::sqrt(1.25)));
  CHECK(f.eccentricity == 0);
  CHECK(f.elongation == Approx(1.0));
  CHECK(f.angle == Approx(135.0));
  CHECK(f.local_centroid_row == 1.5);
  CHECK(f.local_centroid_col == 1.5);
  CHECK(f.y == 21.5);
  CHECK(f.x == 11.5);
  CHECK(f.circ == Approx(4 * pi * 16 / 144));
  CHECK(f.circex == Approx(4 * pi * 16 / 144));
  CHECK(f.perim_area_exc == Approx(12.0 / 16));
  CHECK(f.perim_major == Approx(12 / (4 * std::sqrt(1.25))));
  CHECK(f.equivalent_diameter == Approx(std::sqrt(64 / pi)));
  CHECK(f.extent == 1);
  CHECK(f.solidity == 1);
  CHECK(f.euler_number == 1);
}

TEST_CASE("ring: holes are filled for area and counted in the perimeter", "[kernel][features]") {
  const auto ring = measure(mask_from({"#######", "#######", "##...##", "##...##", "##...##",
                                       "#######", "#######"}));
  CHECK(ring.area_exc == 40);
  CHECK(ring.area == 49);
  CHECK(ring.percent_area == Approx(1.0 - 40.0 / 49));
  CHECK(ring.euler_number == 0);
  CHECK(ring.convex_area == 49);
  // Outer ring as for a 7x7 square (24); around the hole only the middle
  // pixel of each side gets a weighted code (27 -> 1), the others 35 -> 0.
  CHECK(ring.perimeter == 28);
  CHECK(measure(cv::Mat(7, 7, CV_8UC1, cv::Scalar(255))).perimeter == 24);
}

TEST_CASE("diagonal-only hole: euler uses 4-connected holes, fill uses 8-connected background",
          "[kernel][features]") {
  const auto f = measure(mask_from({".#.", "#.#", ".#."}));
  CHECK(f.area_exc == 4);
  // The centre touches the background corners diagonally, so it is not filled.
  CHECK(f.area == 4);
  // ...but it is a 4-connected hole for the Euler number: 1 object - 1 hole.
  CHECK(f.euler_number == 0);
  // The hull of the four diamonds contains all five plus-shaped centres.
  CHECK(f.convex_area == 5);
  CHECK(f.perimeter == Approx(4 * sqrt2)); // each pixel: two diagonal borders, code 21
}

TEST_CASE("L shape convex area", "[kernel][features]") {
  const auto f = measure(mask_from({"#...", "#...", "#...", "####"}));
  CHECK(f.area_exc == 7);
  // Hull edge from (0, 0.5) to (2.5, 3) is col = row + 1/2, so the hull holds
  // every centre with col <= row: 1 + 2 + 3 + 4.
  CHECK(f.convex_area == 10);
  CHECK(f.solidity == Approx(0.7));
  // Ends code 3 (0); the other five code 5 or 15 (1).
  CHECK(f.perimeter == 5);
  // Rows 0,1,2,3,3,3,3 and cols 0,0,0,0,1,2,3: mu20 = mu02 = 62/7 (mirror
  // symmetry), mu11 = 36/7, so the tensor [[62, -36], [-36, 62]]/49 has
  // eigenvalues 2 and 26/49; eccentricity sqrt(1 - 13/49) = 6/7.
  CHECK(f.major == Approx(4 * sqrt2));
  CHECK(f.minor == Approx(4 * std::sqrt(26.0 / 49)));
  CHECK(f.eccentricity == Approx(6.0 / 7));
  // a == c and b < 0: skimage's special case, -pi/4.
  CHECK(f.angle == Approx(45.0));
}

TEST_CASE("disc of radius 10 matches skimage", "[kernel][features]") {
  cv::Mat m(21, 21, CV_8UC1);
  for (int r = 0; r < 21; ++r)
    for (int c = 0; c < 21; ++c)
      m.at<std::uint8_t>(r, c) = (r - 10) * (r - 10) + (c - 10) * (c - 10) <= 100 ? 255 : 0;
  const auto f = measure(m);
  // Values printed by skimage 0.19.3 regionprops on this mask.
  CHECK(f.area_exc == 317);
  CHECK(f.area == 317);
  CHECK(f.convex_area == 341);
  CHECK(f.perimeter == Approx(65.94112549695429).epsilon(1e-12));
  CHECK(f.major == Approx(20.101948365163757).epsilon(1e-12));
  CHECK(f.minor == Approx(20.101948365163757).epsilon(1e-12));
  CHECK(f.angle == Approx(135.0));
  CHECK(f.euler_number == 1);
}

TEST_CASE("region and crop may be ROIs of larger images", "[kernel][features]") {
  cv::Mat big_mask(30, 40, CV_8UC1, cv::Scalar(255));
  cv::Mat big_crop(30, 40, CV_8UC3, cv::Scalar(0, 0, 0));
  const cv::Rect box(5, 6, 4, 4);
  big_crop(box).setTo(cv::Scalar(90, 90, 90));
  const auto f = measure_region(big_mask(box), big_crop(box), box);
  CHECK(f.area_exc == 16);
  CHECK(f.perimeter == 12);
  CHECK(f.y == 7.5);
  CHECK(f.x == 6.5);
  // A uniform crop has zero Laplacian only if the border is taken inside the
  // crop (reflect-101), not from the black pixels around the ROI.
  CHECK(f.blur_laplacian == 0);
  CHECK(f.mean_value == 90);
}

TEST_CASE("colour statistics use the holes-filled mask", "[kernel][features]") {
  // A 3x3 ring plus one pixel to the right; the centre is a hole (filled),
  // the two background pixels on the right are not.
  const cv::Mat mask = mask_from({"###.", "#.##", "###."});
  cv::Mat crop(3, 4, CV_8UC3, cv::Scalar(0, 0, 255));         // red: H 0, S 255, V 255
  crop.at<cv::Vec3b>(1, 1) = cv::Vec3b(0, 255, 0);            // green: H 60
  crop.at<cv::Vec3b>(0, 3) = cv::Vec3b(255, 0, 0);            // blue, excluded
  crop.at<cv::Vec3b>(2, 3) = cv::Vec3b(128, 128, 128);        // grey, excluded
  const auto f = measure_region(mask, crop, cv::Rect(0, 0, 4, 3));
  CHECK(f.area_exc == 9);
  CHECK(f.area == 10);
  // Hues over the 10 filled pixels: nine 0s and one 60.
  CHECK(f.mean_hue == Approx(6.0));
  CHECK(f.std_hue == Approx(18.0)); // sqrt(3600/10 - 6^2)
  CHECK(f.mean_saturation == 255);
  CHECK(f.std_saturation == 0);
  CHECK(f.mean_value == 255);
  CHECK(f.std_value == 0);
}

TEST_CASE("blur is the population variance of the unmasked 3x3 Laplacian", "[kernel][features]") {
  cv::Mat crop(3, 3, CV_8UC3, cv::Scalar(0, 0, 0));
  crop.at<cv::Vec3b>(1, 1) = cv::Vec3b(100, 100, 100); // grey 100
  // Only the corner pixel is in the region: blur ignores the mask.
  const auto f = measure_region(mask_from({"#..", "...", "..."}), crop, cv::Rect(0, 0, 3, 3));
  // Laplacian with reflect-101 borders: centre -400, the four edge pixels
  // +200 (the reflected neighbour is the centre), corners 0.
  // var = E[x^2] - E[x]^2 = 320000/9 - (400/9)^2 = 2720000/81.
  CHECK(f.blur_laplacian == Approx(2720000.0 / 81).epsilon(1e-12));
}

TEST_CASE("scale_to_micrometres scales lengths, areas and inverse lengths only", "[kernel][features]") {
  const auto px = measure(mask_from({"####", "####", "####", "####"}), 10, 20);
  auto um = px;
  seg::kernels::scale_to_micrometres(um, 0.5);
  CHECK(um.area_exc == px.area_exc * 0.25);
  CHECK(um.area == px.area * 0.25);
  CHECK(um.convex_area == px.convex_area * 0.25);
  CHECK(um.bounding_box_area == px.bounding_box_area * 0.25);
  CHECK(um.major == px.major * 0.5);
  CHECK(um.minor == px.minor * 0.5);
  CHECK(um.perimeter == px.perimeter * 0.5);
  CHECK(um.equivalent_diameter == px.equivalent_diameter * 0.5);
  CHECK(um.perim_area_exc == px.perim_area_exc * 2);
  // Positions and ratios are unchanged.
  CHECK(um.bx == px.bx);
  CHECK(um.by == px.by);
  CHECK(um.x == px.x);
  CHECK(um.y == px.y);
  CHECK(um.local_centroid_col == px.local_centroid_col);
  CHECK(um.circ == px.circ);
  CHECK(um.solidity == px.solidity);
  CHECK(um.elongation == px.elongation);
  CHECK(um.angle == px.angle);
}

TEST_CASE("measure_region rejects mismatched inputs", "[kernel][features]") {
  const cv::Mat mask(4, 4, CV_8UC1, cv::Scalar(255));
  const cv::Mat crop(4, 5, CV_8UC3, cv::Scalar(0));
  CHECK_THROWS(measure_region(mask, crop, cv::Rect(0, 0, 4, 4)));
  CHECK_THROWS(measure_region(cv::Mat(4, 4, CV_8UC1, cv::Scalar(0)), crop(cv::Rect(0, 0, 4, 4)),
                              cv::Rect(0, 0, 4, 4)));
}
