#include "kernels/flat_field.hpp"

#include <algorithm>
#include <numeric>
#include <random>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>

using seg::kernels::flat_recalc_heuristic;
using seg::kernels::flat_window;
using seg::kernels::initial_flat_indices;
using seg::kernels::median_flat;
using seg::kernels::median_flat_rows;
using seg::kernels::recalc_flat_indices;
using idx = std::vector<std::size_t>;

namespace {

idx range(std::size_t begin, std::size_t end) {
  idx v(end - begin);
  std::iota(v.begin(), v.end(), begin);
  return v;
}

} // namespace

// Expected values below are worked out by hand from the reference's
// _calculate_flat / _pipe (SPEC §2.1): even images_number -> -1, then clamp
// to the slice length; Python slices wrap negative starts.
TEST_CASE("initial flat uses the first 9 frames, or all but one of an even short list",
          "[kernel][flat]") {
  CHECK(initial_flat_indices(0).empty());
  CHECK(initial_flat_indices(1) == idx{0});
  CHECK(initial_flat_indices(2) == idx{0});
  CHECK(initial_flat_indices(3) == range(0, 3));
  CHECK(initial_flat_indices(4) == range(0, 3));
  CHECK(initial_flat_indices(9) == range(0, 9));
  CHECK(initial_flat_indices(10) == range(0, 9));
  CHECK(initial_flat_indices(12) == range(0, 9));
  CHECK(initial_flat_indices(30) == range(0, 9));
  CHECK(initial_flat_indices(30, 5) == range(0, 5));
  CHECK(initial_flat_indices(30, 6) == range(0, 5));
}

TEST_CASE("recalculated flat window follows the reference's slice rules", "[kernel][flat]") {
  SECTION("4 frames: list[j-10:j] wraps below zero, clamps to 0, short slices stay even") {
    CHECK(recalc_flat_indices(0, 4).empty()); // list[-10:0] is empty
    CHECK(recalc_flat_indices(1, 4) == idx{0});
    CHECK(recalc_flat_indices(2, 4) == range(0, 2));
    CHECK(recalc_flat_indices(3, 4) == range(0, 3));
  }
  SECTION("9 frames: a wrapped start lands inside the list") {
    CHECK(recalc_flat_indices(1, 9) == idx{0}); // list[-9:1] = list[0:1]
    CHECK(recalc_flat_indices(2, 9) == idx{1}); // list[-8:2] = list[1:2]
    CHECK(recalc_flat_indices(5, 9) == idx{4}); // list[-5:5] = list[4:5]
    CHECK(recalc_flat_indices(8, 9) == idx{7});
  }
  SECTION("10 frames: always the whole list, reduced to 9") {
    for (std::size_t j = 0; j < 10; ++j)
      CHECK(recalc_flat_indices(j, 10) == range(0, 9));
  }
  SECTION("11 frames") {
    CHECK(recalc_flat_indices(0, 11) == range(0, 9)); // list[0:10]
    CHECK(recalc_flat_indices(1, 11).empty());        // list[-9:1] = list[2:1]
    CHECK(recalc_flat_indices(10, 11) == range(0, 9)); // list[0:10]
  }
  SECTION("12 frames: the backward window is empty until j >= 10") {
    CHECK(recalc_flat_indices(0, 12) == range(0, 9));  // list[0:10]
    CHECK(recalc_flat_indices(1, 12) == range(1, 10)); // list[1:11]
    CHECK(recalc_flat_indices(2, 12).empty());         // list[-8:2] = list[4:2]
    CHECK(recalc_flat_indices(5, 12).empty());
    CHECK(recalc_flat_indices(9, 12).empty());          // list[-1:9] = list[11:9]
    CHECK(recalc_flat_indices(10, 12) == range(0, 9));  // list[0:10]
    CHECK(recalc_flat_indices(11, 12) == range(1, 10)); // list[1:11]
  }
  SECTION("30 frames: forward window, then backward near the end") {
    CHECK(recalc_flat_indices(5, 30) == range(5, 14));
    CHECK(recalc_flat_indices(19, 30) == range(19, 28)); // 19 == 30-11: forward
    CHECK(recalc_flat_indices(20, 30) == range(10, 19)); // list[10:20]
    CHECK(recalc_flat_indices(29, 30) == range(19, 28));
  }
  CHECK_THROWS_AS(recalc_flat_indices(4, 4), cv::Exception);
}

TEST_CASE("recalculation heuristic: cumulative mean, checked before the update",
          "[kernel][flat]") {
  flat_recalc_heuristic h;
  CHECK_FALSE(h.after_frame(0, 10)); // mean was 0: never triggers
  CHECK(h.average_objects == 10);
  CHECK(h.after_frame(1, 40)); // 40 > 10 + 20
  CHECK(h.average_objects == 25);
  CHECK_FALSE(h.after_frame(2, 10));
  CHECK(h.average_objects == 20);
  CHECK_FALSE(h.after_frame(3, 10));
  CHECK(h.average_objects == 17.5);
  CHECK_FALSE(h.after_frame(4, 37)); // 37 > 37.5 is false
  flat_recalc_heuristic g;
  CHECK_FALSE(g.after_frame(0, 10));
  CHECK_FALSE(g.after_frame(1, 30)); // strictly greater is needed
  flat_recalc_heuristic z;
  CHECK_FALSE(z.after_frame(0, 0));
  CHECK_FALSE(z.after_frame(1, 100)); // the mean is still 0
  CHECK(z.average_objects == 50);
  CHECK(z.after_frame(2, 71));
}

TEST_CASE("median of 9 is exact on every 0/1 pattern (0-1 principle)", "[kernel][flat]") {
  // 512 patterns x 3 channels = 512 pixels; pattern p sets frame i to 255 iff
  // bit i of p is set. The median is 255 iff at least 5 bits are set.
  std::vector<cv::Mat> frames(9);
  for (int i = 0; i < 9; ++i) {
    frames[static_cast<std::size_t>(i)] = cv::Mat(1, 512, CV_8UC3);
    for (int p = 0; p < 512; ++p) {
      const std::uint8_t v = (p >> i & 1) ? 255 : 0;
      frames[static_cast<std::size_t>(i)].at<cv::Vec3b>(0, p) = {v, v, v};
    }
  }
  const cv::Mat flat = median_flat(frames);
  REQUIRE(flat.type() == CV_8UC3);
  REQUIRE(flat.size() == cv::Size(512, 1));
  int bad = 0;
  for (int p = 0; p < 512; ++p) {
    const int ones = __builtin_popcount(static_cast<unsigned>(p));
    const std::uint8_t want = ones >= 5 ? 255 : 0;
    const cv::Vec3b got = flat.at<cv::Vec3b>(0, p);
    bad += got[0] != want || got[1] != want || got[2] != want;
  }
  CHECK(bad == 0);
}

TEST_CASE("median of N random frames is element int(N/2) of the sorted values",
          "[kernel][flat]") {
  std::mt19937 rng(42);
  // 37 columns x 3 = 111 bytes per row: SIMD blocks plus a scalar tail.
  const cv::Size size(37, 5);
  for (int n = 1; n <= 12; ++n) {
    std::vector<cv::Mat> frames;
    for (int i = 0; i < n; ++i) {
      cv::Mat f(size, CV_8UC3);
      cv::randu(f, 0, 256);
      // A narrow range on some rows makes ties common.
      cv::Mat ties = f.rowRange(0, 2);
      cv::randu(ties, 100, 103);
      frames.push_back(f);
    }
    const cv::Mat flat = median_flat(frames);
    int bad = 0;
    for (int y = 0; y < size.height; ++y) {
      for (int x = 0; x < size.width * 3; ++x) {
        std::vector<int> vals;
        for (const auto& f : frames)
          vals.push_back(f.ptr<std::uint8_t>(y)[x]);
        std::sort(vals.begin(), vals.end());
        bad += flat.ptr<std::uint8_t>(y)[x] != vals[static_cast<std::size_t>(n / 2)];
      }
    }
    INFO("N = " << n);
    CHECK(bad == 0);
  }
}

TEST_CASE("median_flat_rows fills only its band, and bands compose to the full flat",
          "[kernel][flat]") {
  std::mt19937 rng(7);
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 9; ++i) {
    cv::Mat f(40, 50, CV_8UC3);
    cv::randu(f, 0, 256);
    frames.push_back(f);
  }
  cv::Mat banded(40, 50, CV_8UC3, cv::Scalar::all(7));
  median_flat_rows(frames, 10, 25, banded);
  const cv::Mat full = median_flat(frames);
  CHECK(cv::countNonZero(banded.rowRange(0, 10).reshape(1) != 7) == 0);
  CHECK(cv::countNonZero(banded.rowRange(25, 40).reshape(1) != 7) == 0);
  CHECK(cv::countNonZero(banded.rowRange(10, 25).reshape(1) != full.rowRange(10, 25).reshape(1)) ==
        0);
  median_flat_rows(frames, 0, 10, banded);
  median_flat_rows(frames, 25, 40, banded);
  median_flat_rows(frames, 40, 40, banded); // empty band
  CHECK(cv::countNonZero(banded.reshape(1) != full.reshape(1)) == 0);
}

TEST_CASE("median_flat rejects bad input", "[kernel][flat]") {
  std::vector<cv::Mat> none;
  CHECK_THROWS_AS(median_flat(none), cv::Exception);
  std::vector<cv::Mat> sizes{cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(1)),
                             cv::Mat(4, 5, CV_8UC3, cv::Scalar::all(1))};
  CHECK_THROWS_AS(median_flat(sizes), cv::Exception);
  std::vector<cv::Mat> gray{cv::Mat(4, 4, CV_8UC1, cv::Scalar::all(1))};
  CHECK_THROWS_AS(median_flat(gray), cv::Exception);
  std::vector<cv::Mat> ok{cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(1))};
  cv::Mat flat(4, 4, CV_8UC3);
  CHECK_THROWS_AS(median_flat_rows(ok, 3, 5, flat), cv::Exception);
  CHECK_THROWS_AS(median_flat_rows(ok, 3, 2, flat), cv::Exception);
}

namespace {

// Runs the window as the reader does, settling pending slots in a random
// order (workers answer in any order); returns the chosen frames.
std::vector<std::uint32_t> run_window(std::size_t n, std::size_t flat_frames,
                                      const std::vector<bool>& bad, std::mt19937& rng) {
  flat_window w(n, flat_frames);
  std::vector<std::size_t> pending;
  for (std::size_t s = 0; s < w.slots(); ++s)
    pending.push_back(s);
  while (!pending.empty()) {
    std::size_t i = rng() % pending.size();
    auto slot = pending[i];
    if (bad[w.frame(slot)]) {
      if (!w.replace(slot))
        pending.erase(pending.begin() + std::ptrdiff_t(i));
    } else {
      w.accept(slot);
      pending.erase(pending.begin() + std::ptrdiff_t(i));
    }
  }
  REQUIRE(w.complete());
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  return frames;
}

} // namespace

TEST_CASE("flat window: the flat of the acquisition without its bad files", "[kernel][flat]") {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 5000; ++trial) {
    std::size_t n = 1 + rng() % 30;
    std::size_t flat_frames = std::vector<std::size_t>{10, 10, 1, 2, 5, 11}[rng() % 6];
    double p = std::vector<double>{0, 0.1, 0.3, 0.7, 1}[rng() % 5];
    std::vector<bool> bad(n);
    std::vector<std::uint32_t> good;
    for (std::size_t f = 0; f < n; ++f) {
      bad[f] = std::uniform_real_distribution<double>(0, 1)(rng) < p;
      if (!bad[f])
        good.push_back(std::uint32_t(f));
    }
    // What the reference's rule gives on the good frames alone (SPEC §2.1).
    std::vector<std::uint32_t> expected;
    for (auto i : seg::kernels::initial_flat_indices(good.size(), flat_frames))
      expected.push_back(good[i]);
    INFO("n=" << n << " flat_frames=" << flat_frames << " good=" << good.size());
    CHECK(run_window(n, flat_frames, bad, rng) == expected);
  }
}

TEST_CASE("flat window: replacements come in frame order after the window", "[kernel][flat]") {
  flat_window w(20, 10);
  REQUIRE(w.slots() == 9);
  CHECK(w.frame(3) == 3);
  CHECK(w.replace(3) == 9u);
  CHECK(w.replace(3) == 10u); // the replacement was bad too
  CHECK(w.replace(0) == 11u);
  for (std::size_t s = 0; s < 9; ++s)
    w.accept(s);
  CHECK(w.replace(3) == std::nullopt); // settled slots stay as they are
  CHECK(w.bad_frames() == 3);
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{1, 2, 4, 5, 6, 7, 8, 10, 11});
}

TEST_CASE("flat window: fewer good frames than the flat needs", "[kernel][flat]") {
  // 6 frames: the reference takes 5 (odd). Frames 1 and 4 are bad: 4 good
  // frames remain, an even count, so 3 are used: 0, 2, 3.
  flat_window w(6, 10);
  REQUIRE(w.slots() == 5);
  CHECK(w.replace(1) == 5u);
  CHECK_FALSE(w.replace(4));
  for (auto s : {0, 1, 2, 3})
    w.accept(std::size_t(s));
  REQUIRE(w.complete());
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{0, 2, 3});
  // No good frame at all: nothing to compute a flat from.
  flat_window none(2, 10); // 2 frames: 1 slot (odd count)
  REQUIRE(none.slots() == 1);
  CHECK(none.replace(0) == 1u);
  CHECK_FALSE(none.replace(0));
  CHECK(none.complete());
  CHECK(none.chosen().empty());
}

TEST_CASE("flat window: a recalculation window replaces bad frames after it", "[kernel][flat]") {
  // Frame 12's window in 24 frames is 12..20 (SPEC §2.1); 15 is bad: 21 takes
  // its place.
  flat_window w(seg::kernels::recalc_flat_indices(12, 24), 24);
  REQUIRE(w.slots() == 9);
  CHECK(w.frame(0) == 12);
  CHECK(w.replace(3) == 21u);
  for (std::size_t s = 0; s < 9; ++s)
    w.accept(s);
  std::vector<std::uint32_t> frames;
  for (auto s : w.chosen())
    frames.push_back(w.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{12, 13, 14, 16, 17, 18, 19, 20, 21});
  // Frame 22's window in 23 frames is the previous ten, 12..20 (9 used); with
  // 13 bad, 21 and 22 follow (22 bad too); then nothing is left: 8 good
  // frames, an even count, so 7 are used.
  flat_window end(seg::kernels::recalc_flat_indices(22, 23), 23);
  REQUIRE(end.slots() == 9);
  CHECK(end.frame(0) == 12);
  CHECK(end.replace(1) == 21u);
  CHECK(end.replace(1) == 22u);
  CHECK_FALSE(end.replace(1));
  for (std::size_t s = 0; s < 9; ++s)
    end.accept(s);
  frames.clear();
  for (auto s : end.chosen())
    frames.push_back(end.frame(s));
  CHECK(frames == std::vector<std::uint32_t>{12, 14, 15, 16, 17, 18, 19});
}

