#include "kernels/mask.hpp"

#include <cmath>
#include <random>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

using seg::kernels::make_mask;
using seg::kernels::mask_params;

namespace {

// A corrected-looking frame: background 245, pixel (0,0) black.
cv::Mat background(cv::Size size, int level = 245) {
  cv::Mat img(size, CV_8UC3, cv::Scalar::all(level));
  img.at<cv::Vec3b>(0, 0) = {0, 0, 0};
  return img;
}

// Blobs of at least 315 px (ESD >= 20 px, what the size filter keeps), with
// their area and centroid.
struct blob {
  double area;
  cv::Point2d centroid;
};

std::vector<blob> objects(const cv::Mat& mask) {
  cv::Mat labels, s, c;
  const int n = cv::connectedComponentsWithStats(mask, labels, s, c, 8);
  std::vector<blob> out;
  for (int l = 1; l < n; ++l)
    if (s.at<int>(l, cv::CC_STAT_AREA) >= 315)
      out.push_back({static_cast<double>(s.at<int>(l, cv::CC_STAT_AREA)),
                     {c.at<double>(l, 0), c.at<double>(l, 1)}});
  return out;
}

} // namespace

TEST_CASE("the 8x8 OpenCV ellipse is asymmetric (SPEC §3.1)", "[kernel][mask]") {
  const cv::Mat k = cv::getStructuringElement(cv::MORPH_ELLIPSE, {8, 8});
  const char* rows[8] = {"00001000", "01111111", "01111111", "11111111",
                         "11111111", "11111111", "01111111", "01111111"};
  REQUIRE(k.size() == cv::Size(8, 8));
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      INFO("row " << y << " col " << x);
      CHECK(static_cast<int>(k.at<std::uint8_t>(y, x)) == (rows[y][x] == '1' ? 1 : 0));
    }
  const cv::Mat r = cv::getStructuringElement(cv::MORPH_RECT, {2, 2});
  CHECK(cv::countNonZero(r) == 4);
}

TEST_CASE("a dark disc on a bright background gives one blob over the disc",
          "[kernel][mask]") {
  cv::Mat img = background({200, 160});
  cv::circle(img, {90, 70}, 30, cv::Scalar::all(100), cv::FILLED);
  const auto r = make_mask(img, {}, nullptr);
  REQUIRE(r.mask.type() == CV_8UC1);
  REQUIRE(r.mask.size() == img.size());
  // Histogram {0: 1, 100: disc, 245: rest}: the triangle line from bin 0 to
  // the peak at 245 is farthest from bin 244, and OpenCV returns that - 1.
  CHECK(r.threshold == 243);
  const auto blobs = objects(r.mask);
  REQUIRE(blobs.size() == 1);
  CHECK(std::abs(blobs[0].centroid.x - 90) < 1.5);
  CHECK(std::abs(blobs[0].centroid.y - 70) < 1.5);
  CHECK(std::abs(blobs[0].area - M_PI * 30 * 30) < 0.06 * M_PI * 30 * 30);
  CHECK(cv::countNonZero(r.mask != 0 & r.mask != 255) == 0);
}

TEST_CASE("an all-bright frame has no object", "[kernel][mask]") {
  const auto with_black = make_mask(background({64, 48}), {}, nullptr);
  CHECK(with_black.threshold == 243); // only the black pixel is <= t
  // The erosions' border counts as foreground, so the corner pixel survives
  // as a speck, which the size filter drops.
  CHECK(with_black.mask.at<std::uint8_t>(0, 0) == 255);
  CHECK(cv::countNonZero(with_black.mask) < 315);
  CHECK(objects(with_black.mask).empty());
  const cv::Mat uniform(48, 64, CV_8UC3, cv::Scalar::all(245));
  const auto u = make_mask(uniform, {}, nullptr);
  CHECK(u.threshold == 244); // bounds 244..246 around the single bin
  CHECK(cv::countNonZero(u.mask) == 0);
}

TEST_CASE("an all-dark frame is one object covering the frame", "[kernel][mask]") {
  const cv::Mat dark(48, 64, CV_8UC3, cv::Scalar::all(0));
  const auto r = make_mask(dark, {}, nullptr);
  // Flipped histogram: t = 255 - 254 = 1. Erosions use a +inf border, so the
  // full mask survives to the frame edge.
  CHECK(r.threshold == 1);
  CHECK(cv::countNonZero(r.mask) == 64 * 48);
}

TEST_CASE("remove_previous_mask keeps per-job state in the caller's Mat", "[kernel][mask]") {
  cv::Mat a = background({200, 160});
  cv::circle(a, {50, 50}, 20, cv::Scalar::all(90), cv::FILLED);
  cv::Mat b = a.clone();
  cv::circle(b, {140, 120}, 20, cv::Scalar::all(90), cv::FILLED);
  mask_params p;
  p.remove_previous_mask = true;
  cv::Mat prev;
  CHECK_THROWS_AS(make_mask(a, p, nullptr), cv::Exception);

  // First call: state set to the raw threshold mask, output unchanged.
  const auto r0 = make_mask(a, p, &prev);
  CHECK(objects(r0.mask).size() == 1);
  CHECK(cv::countNonZero(r0.mask != make_mask(a, {}, nullptr).mask) == 0);
  REQUIRE(prev.size() == a.size());
  CHECK(prev.at<std::uint8_t>(50, 50) == 255);
  CHECK(prev.at<std::uint8_t>(0, 0) == 255); // raw step-0 mask: the black pixel is still there

  // Second call: the disc shared with the previous frame is removed.
  const auto r1 = make_mask(b, p, &prev);
  const auto blobs = objects(r1.mask);
  REQUIRE(blobs.size() == 1);
  CHECK(std::abs(blobs[0].centroid.x - 140) < 1.5);
  CHECK(r1.mask.at<std::uint8_t>(0, 0) == 0); // the corner speck was in both
  CHECK(prev.at<std::uint8_t>(120, 140) == 255);

  // Third call with the same frame: everything was already there.
  CHECK(cv::countNonZero(make_mask(b, p, &prev).mask) == 0);

  // Off: the state is neither read nor written.
  const cv::Mat before = prev.clone();
  CHECK(objects(make_mask(b, {}, &prev).mask).size() == 2);
  CHECK(cv::countNonZero(before != prev) == 0);

  cv::Mat wrong(10, 10, CV_8UC1, cv::Scalar::all(0));
  CHECK_THROWS_AS(make_mask(b, p, &wrong), cv::Exception);
}

TEST_CASE("threshold_mask rebuilds remove_previous_mask's state from one frame",
          "[kernel][mask]") {
  // Three frames sharing a disc (a particle stuck on the glass), each with a
  // moving one; b's background is darker, so its threshold differs.
  cv::Mat a = background({200, 160});
  cv::circle(a, {50, 50}, 20, cv::Scalar::all(90), cv::FILLED);
  cv::circle(a, {150, 40}, 15, cv::Scalar::all(120), cv::FILLED);
  cv::Mat b = background({200, 160}, 230);
  cv::circle(b, {50, 50}, 20, cv::Scalar::all(90), cv::FILLED);
  cv::circle(b, {140, 120}, 20, cv::Scalar::all(100), cv::FILLED);
  cv::Mat c = background({200, 160});
  cv::circle(c, {50, 50}, 20, cv::Scalar::all(90), cv::FILLED);
  cv::circle(c, {60, 130}, 18, cv::Scalar::all(80), cv::FILLED);
  mask_params p;
  p.remove_previous_mask = true;

  // Sequential: the state carried from frame to frame by make_mask.
  cv::Mat state;
  make_mask(a, p, &state);
  const cv::Mat after_a = state.clone();
  const auto seq_b = make_mask(b, p, &state);
  const auto seq_c = make_mask(c, p, &state);

  // Rebuilt per frame from its predecessor alone, as a worker does.
  CHECK(cv::countNonZero(seg::kernels::threshold_mask(a) != after_a) == 0);
  cv::Mat prev = seg::kernels::threshold_mask(a);
  const auto par_b = make_mask(b, p, &prev);
  prev = seg::kernels::threshold_mask(b);
  const auto par_c = make_mask(c, p, &prev);
  CHECK(par_b.threshold == seq_b.threshold);
  CHECK(cv::countNonZero(par_b.mask != seq_b.mask) == 0);
  CHECK(cv::countNonZero(par_c.mask != seq_c.mask) == 0);
  // The stuck disc is gone from b and c, the moving ones stay.
  CHECK(objects(par_b.mask).size() == 1);
  CHECK(objects(par_c.mask).size() == 1);
  CHECK(seg::kernels::threshold_mask(a).type() == CV_8UC1);
}

namespace {

// The reference's steps 2-5, exactly as operations.py calls OpenCV.
cv::Mat opencv_chain(const cv::Mat& step0, int erode_size, int ellipse_size) {
  const cv::Mat rect = cv::getStructuringElement(cv::MORPH_RECT, {erode_size, erode_size});
  const cv::Mat ellipse = cv::getStructuringElement(cv::MORPH_ELLIPSE, {ellipse_size, ellipse_size});
  cv::Mat a, b, c, d;
  cv::erode(step0, a, rect);
  cv::dilate(a, b, ellipse);
  cv::morphologyEx(b, c, cv::MORPH_CLOSE, ellipse);
  cv::erode(c, d, ellipse);
  return d;
}

// A corrected-looking BGR frame whose threshold mask is `dark` (gray 60 on
// 245), so make_mask's step 0 reproduces it.
cv::Mat frame_with_mask(const cv::Mat& dark) {
  cv::Mat img(dark.size(), CV_8UC3, cv::Scalar::all(245));
  img.setTo(cv::Scalar::all(60), dark);
  return img;
}

} // namespace

TEST_CASE("bitset morphology equals OpenCV's erode/dilate/close/erode chain",
          "[kernel][mask]") {
  std::mt19937 rng(99);
  const cv::Size sizes[] = {{1, 1}, {3, 2}, {63, 9}, {64, 17}, {65, 30}, {130, 70}, {257, 129}};
  const std::pair<int, int> kernels[] = {{2, 8}, {1, 1}, {3, 5}, {2, 9}, {4, 15}};
  int cases = 0;
  for (const auto& size : sizes)
    for (const auto& [erode_size, ellipse_size] : kernels)
      for (int density : {2, 20, 50, 80, 98}) {
        cv::Mat noise(size, CV_8UC1);
        cv::randu(noise, 0, 100);
        cv::Mat dark = noise < density;
        // Blobs as well as specks, some touching the borders.
        for (int k = 0; k < 3; ++k)
          cv::circle(dark, {static_cast<int>(rng() % (size.width + 1)), static_cast<int>(rng() % (size.height + 1))},
                     static_cast<int>(rng() % 12), 255, cv::FILLED);
        const cv::Mat img = frame_with_mask(dark);
        mask_params p;
        p.erode_size = erode_size;
        p.ellipse_size = ellipse_size;
        const auto fast = make_mask(img, p, nullptr);
        p.morphology = seg::kernels::morphology_impl::opencv;
        const auto slow = make_mask(img, p, nullptr);
        cv::Mat gray, step0;
        cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
        const double t =
            cv::threshold(gray, step0, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE);
        const cv::Mat want = opencv_chain(step0, erode_size, ellipse_size);
        INFO("size " << size << " kernels " << erode_size << "/" << ellipse_size << " density "
                     << density);
        CHECK(fast.threshold == t);
        CHECK(slow.threshold == t);
        REQUIRE(fast.mask.size() == size);
        CHECK(cv::countNonZero(fast.mask != want) == 0);
        CHECK(cv::countNonZero(slow.mask != want) == 0);
        ++cases;
      }
  CHECK(cases == 7 * 5 * 5);
}

TEST_CASE("make_mask's triangle threshold equals cv::threshold's on varied histograms",
          "[kernel][mask]") {
  std::mt19937 rng(5);
  int cases = 0, bad = 0;
  for (int trial = 0; trial < 300; ++trial) {
    cv::Mat gray(37, 53, CV_8UC1);
    const int kind = trial % 6;
    if (kind == 0) {
      cv::randu(gray, 0, 256);
    } else if (kind == 1 || kind == 2) { // a peak with a tail on one side
      const double mean = static_cast<double>(rng() % 256);
      cv::Mat n(gray.size(), CV_32F);
      cv::randn(n, mean, 2 + rng() % 40);
      cv::Mat tail(gray.size(), CV_32F);
      cv::randu(tail, kind == 1 ? 0.0 : mean, kind == 1 ? mean : 255.0);
      const cv::Mat pick = cv::Mat(gray.size(), CV_8U);
      cv::randu(pick, 0, 100);
      tail.copyTo(n, pick < static_cast<int>(rng() % 60));
      n.convertTo(gray, CV_8U);
    } else if (kind == 3) { // one or two values
      gray.setTo(static_cast<int>(rng() % 256));
      if (rng() % 2)
        gray(cv::Rect(0, 0, 1 + rng() % 50, 1 + rng() % 30)).setTo(static_cast<int>(rng() % 256));
    } else if (kind == 4) { // extremes
      gray.setTo(rng() % 2 ? 0 : 255);
      gray.at<std::uint8_t>(0, 0) = static_cast<std::uint8_t>(rng() % 256);
    } else { // a corrected-like frame: background 245, black (0,0), dark objects
      gray.setTo(245);
      cv::Mat noise(gray.size(), CV_8U);
      cv::randu(noise, 0, 4);
      gray -= noise;
      cv::circle(gray, {static_cast<int>(rng() % 53), static_cast<int>(rng() % 37)},
                 static_cast<int>(rng() % 15), static_cast<int>(rng() % 200), cv::FILLED);
      gray.at<std::uint8_t>(0, 0) = 0;
    }
    cv::Mat bgr, step0;
    cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
    const double want =
        cv::threshold(gray, step0, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE);
    const auto got = make_mask(bgr, {}, nullptr);
    mask_params p;
    p.morphology = seg::kernels::morphology_impl::opencv;
    const auto slow = make_mask(bgr, p, nullptr);
    bad += got.threshold != want || cv::countNonZero(got.mask != slow.mask) != 0;
    ++cases;
  }
  CHECK(cases == 300);
  CHECK(bad == 0);
}

TEST_CASE("triangle_threshold equals cv::threshold's choice on random histograms",
          "[kernel][mask]") {
  std::mt19937 rng(23);
  int bad = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    // A few occupied bins with random counts, often at 0 or 255 (the
    // extremes where the rule clamps and mirrors).
    cv::Mat gray(1, 64, CV_8UC1);
    const int distinct = 1 + static_cast<int>(rng() % 6);
    std::vector<int> values;
    for (int k = 0; k < distinct; ++k)
      values.push_back(rng() % 4 == 0 ? (rng() % 2 ? 0 : 255) : static_cast<int>(rng() % 256));
    for (int x = 0; x < gray.cols; ++x)
      gray.at<std::uint8_t>(0, x) = static_cast<std::uint8_t>(values[rng() % values.size()]);
    cv::Mat step0;
    const double want =
        cv::threshold(gray, step0, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE);
    seg::kernels::gray_histogram hist{};
    for (int x = 0; x < gray.cols; ++x)
      ++hist[gray.at<std::uint8_t>(0, x)];
    const int t = seg::kernels::triangle_threshold(hist);
    // The byte mask from the histogram's threshold is cv::threshold's.
    const cv::Mat got = seg::kernels::threshold_mask(gray, hist);
    bad += want != t || cv::countNonZero(got != step0) != 0;
  }
  CHECK(bad == 0);
}

TEST_CASE("make_mask from correct_frame_gray's gray and histogram equals the OpenCV chain, "
          "remove_previous_mask included",
          "[kernel][mask]") {
  std::mt19937 rng(41);
  const cv::Size size(301, 97);
  cv::Mat flat(size, CV_8UC3);
  cv::randu(flat, 120, 256);
  cv::Mat prev_fused, prev_opencv, want_prev;
  for (int frame_no = 0; frame_no < 6; ++frame_no) {
    cv::Mat raw = flat.clone();
    for (int k = 0; k < 6; ++k)
      cv::circle(raw, {static_cast<int>(rng() % 301), static_cast<int>(rng() % 97)},
                 2 + static_cast<int>(rng() % 14), cv::Scalar::all(rng() % 90), cv::FILLED);
    cv::Mat corrected = seg::kernels::correct_frame(raw, flat);
    cv::Mat gray;
    seg::kernels::gray_histogram hist;
    seg::kernels::correct_frame_gray(raw, flat, raw, gray, hist);
    mask_params fused, slow;
    slow.morphology = seg::kernels::morphology_impl::opencv;
    const auto a = make_mask(gray, hist, fused, nullptr);
    const auto b = make_mask(corrected, slow, nullptr);
    cv::Mat cv_gray, step0;
    cv::cvtColor(corrected, cv_gray, cv::COLOR_BGR2GRAY);
    const double t =
        cv::threshold(cv_gray, step0, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE);
    INFO("frame " << frame_no);
    CHECK(a.threshold == t);
    CHECK(cv::countNonZero(a.mask != b.mask) == 0);
    CHECK(cv::countNonZero(a.mask != opencv_chain(step0, 2, 8)) == 0);
    CHECK(cv::countNonZero(seg::kernels::threshold_mask(gray, hist) != step0) == 0);
    // remove_previous_mask: state and mask as OpenCV's step 0 minus the
    // previous frame's, through both entry points.
    fused.remove_previous_mask = slow.remove_previous_mask = true;
    const auto c = make_mask(gray, hist, fused, &prev_fused);
    const auto d = make_mask(corrected, slow, &prev_opencv);
    cv::Mat want_step0 = step0.clone();
    if (frame_no > 0)
      want_step0.setTo(0, want_prev);
    CHECK(cv::countNonZero(c.mask != d.mask) == 0);
    CHECK(cv::countNonZero(c.mask != opencv_chain(want_step0, 2, 8)) == 0);
    CHECK(cv::countNonZero(prev_fused != step0) == 0);
    want_prev = step0.clone();
  }
}
