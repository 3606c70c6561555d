#include "kernels/flat_field.hpp"

#include <algorithm>
#include <cstdint>

#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>

namespace seg::kernels {

namespace {

// What the reference's _calculate_flat does with the slice it is given: an
// even images_number is decremented, then clamped to the slice length.
std::vector<std::size_t> images_window(std::size_t slice_begin, std::size_t slice_len,
                                     std::size_t images_number) {
  if (images_number % 2 == 0 && images_number > 0)
    --images_number;
  images_number = std::min(images_number, slice_len);
  std::vector<std::size_t> out(images_number);
  for (std::size_t k = 0; k < images_number; ++k)
    out[k] = slice_begin + k;
  return out;
}

// Python's list[begin:end] (step 1) bounds for a list of length len.
std::pair<std::size_t, std::size_t> python_slice(long long begin, long long end,
                                                 std::size_t len) {
  const auto n = static_cast<long long>(len);
  auto norm = [n](long long v) {
    if (v < 0)
      v = std::max(v + n, 0LL);
    return std::min(v, n);
  };
  const long long b = norm(begin);
  const long long e = std::max(norm(end), b);
  return {static_cast<std::size_t>(b), static_cast<std::size_t>(e - b)};
}

template <class T>
inline void sort2(T& a, T& b) {
  const T lo = std::min(a, b);
  b = std::max(a, b);
  a = lo;
}

// Median-of-9 selection network (Paeth / Devillard opt_med9): 19
// compare-exchanges, the median ends up in p[4].
template <class T, class Min, class Max>
inline T median9(T* p, Min vmin, Max vmax) {
  auto s = [&](int i, int j) {
    const T lo = vmin(p[i], p[j]);
    p[j] = vmax(p[i], p[j]);
    p[i] = lo;
  };
  s(1, 2); s(4, 5); s(7, 8);
  s(0, 1); s(3, 4); s(6, 7);
  s(1, 2); s(4, 5); s(7, 8);
  s(0, 3); s(5, 8); s(4, 7);
  s(3, 6); s(1, 4); s(2, 5);
  s(4, 7); s(4, 2); s(6, 4);
  s(4, 2);
  return p[4];
}

// Element k of the sorted values by insertion (N^2/2 compare-exchanges): the
// generic path for N != 9.
template <class T, class Min, class Max>
inline T select_k(T* p, int n, int k, Min vmin, Max vmax) {
  for (int i = 1; i < n; ++i) {
    T x = p[i];
    for (int j = 0; j < i; ++j) {
      const T lo = vmin(p[j], x);
      x = vmax(p[j], x);
      p[j] = lo;
    }
    p[i] = x;
  }
  return p[k];
}

constexpr int max_stack_frames = 64;

void median_row(const std::uint8_t* const* rows, int n, int len, std::uint8_t* dst) {
  const int k = n / 2;
  int x = 0;
#if CV_SIMD128
  {
    constexpr int step = cv::v_uint8x16::nlanes;
    auto vmin = [](const cv::v_uint8x16& a, const cv::v_uint8x16& b) { return cv::v_min(a, b); };
    auto vmax = [](const cv::v_uint8x16& a, const cv::v_uint8x16& b) { return cv::v_max(a, b); };
    if (n == 9) {
      for (; x + step <= len; x += step) {
        cv::v_uint8x16 v[9];
        for (int i = 0; i < 9; ++i)
          v[i] = cv::v_load(rows[i] + x);
        cv::v_store(dst + x, median9(v, vmin, vmax));
      }
    } else {
      cv::v_uint8x16 v[max_stack_frames];
      for (; x + step <= len; x += step) {
        for (int i = 0; i < n; ++i)
          v[i] = cv::v_load(rows[i] + x);
        cv::v_store(dst + x, select_k(v, n, k, vmin, vmax));
      }
    }
  }
#endif
  auto smin = [](std::uint8_t a, std::uint8_t b) { return std::min(a, b); };
  auto smax = [](std::uint8_t a, std::uint8_t b) { return std::max(a, b); };
  std::uint8_t s[max_stack_frames];
  for (; x < len; ++x) {
    for (int i = 0; i < n; ++i)
      s[i] = rows[i][x];
    dst[x] = select_k(s, n, k, smin, smax);
  }
}

} // namespace

std::vector<std::size_t> initial_flat_indices(std::size_t frame_count, std::size_t flat_frames) {
  if (frame_count < flat_frames)
    return images_window(0, frame_count, frame_count);
  return images_window(0, flat_frames, flat_frames);
}

std::vector<std::size_t> recalc_flat_indices(std::size_t next_frame_index,
                                             std::size_t frame_count) {
  CV_Assert(next_frame_index < frame_count);
  constexpr std::size_t images_number = 10;
  const auto j = static_cast<long long>(next_frame_index);
  const auto len = static_cast<long long>(frame_count);
  if (frame_count == 10)
    return images_window(0, frame_count, images_number);
  if (j > len - 11) {
    const auto [begin, size] = python_slice(j - 10, j, frame_count);
    return images_window(begin, size, images_number);
  }
  return images_window(next_frame_index, images_number, images_number);
}

bool flat_recalc_heuristic::after_frame(std::size_t frame_index, std::size_t object_count) {
  const double n = static_cast<double>(object_count);
  const bool recalc = average_objects != 0 && n > average_objects + 20;
  average_objects = (average_objects * static_cast<double>(frame_index) + n) /
                    static_cast<double>(frame_index + 1);
  return recalc;
}

void median_flat_rows(const std::vector<cv::Mat>& frames, int row_begin, int row_end,
                      cv::Mat& flat) {
  CV_Assert(!frames.empty());
  // Larger stacks would only need a heap buffer; the reference never uses
  // more than 9 frames.
  CV_Assert(frames.size() <= static_cast<std::size_t>(max_stack_frames));
  const cv::Size size = frames.front().size();
  for (const auto& f : frames)
    CV_Assert(f.type() == CV_8UC3 && f.size() == size);
  CV_Assert(flat.type() == CV_8UC3 && flat.size() == size);
  CV_Assert(0 <= row_begin && row_begin <= row_end && row_end <= size.height);
  const int n = static_cast<int>(frames.size());
  const int len = size.width * 3;
  const std::uint8_t* rows[max_stack_frames];
  for (int y = row_begin; y < row_end; ++y) {
    for (int i = 0; i < n; ++i)
      rows[i] = frames[static_cast<std::size_t>(i)].ptr<std::uint8_t>(y);
    median_row(rows, n, len, flat.ptr<std::uint8_t>(y));
  }
}

cv::Mat median_flat(const std::vector<cv::Mat>& frames) {
  CV_Assert(!frames.empty());
  cv::Mat flat(frames.front().size(), CV_8UC3);
  median_flat_rows(frames, 0, flat.rows, flat);
  return flat;
}

flat_window::flat_window(std::size_t frame_count, std::size_t flat_frames)
  : frame_count_(frame_count) {
  for (auto i : initial_flat_indices(frame_count, flat_frames)) {
    frames_.push_back(std::uint32_t(i));
    states_.push_back(slot_state::pending);
  }
  next_ = frames_.size();
}

flat_window::flat_window(const std::vector<std::size_t>& frames, std::size_t frame_count)
  : frame_count_(frame_count) {
  for (auto i : frames) {
    frames_.push_back(std::uint32_t(i));
    states_.push_back(slot_state::pending);
  }
  next_ = frames.empty() ? 0 : frames.back() + 1;
}

std::size_t flat_window::slots() const {
  return frames_.size();
}

std::uint32_t flat_window::frame(std::size_t slot) const {
  return frames_.at(slot);
}

std::optional<std::uint32_t> flat_window::replace(std::size_t slot) {
  if (states_.at(slot) != slot_state::pending)
    return std::nullopt; // already settled: a repeated report changes nothing
  ++bad_;
  if (next_ >= frame_count_) {
    states_[slot] = slot_state::dropped;
    return std::nullopt;
  }
  frames_[slot] = std::uint32_t(next_++);
  return frames_[slot];
}

void flat_window::accept(std::size_t slot) {
  if (states_.at(slot) == slot_state::pending)
    states_[slot] = slot_state::good;
}

bool flat_window::complete() const {
  return std::none_of(states_.begin(), states_.end(),
                      [](slot_state s) { return s == slot_state::pending; });
}

std::vector<std::size_t> flat_window::chosen() const {
  std::vector<std::size_t> good;
  bool dropped = false;
  for (std::size_t s = 0; s < states_.size(); ++s) {
    if (states_[s] == slot_state::good)
      good.push_back(s);
    dropped = dropped || states_[s] == slot_state::dropped;
  }
  std::sort(good.begin(), good.end(),
            [&](std::size_t a, std::size_t b) { return frames_[a] < frames_[b]; });
  if (dropped) // every frame was tried: the SPEC §2.1 count of the good ones
    good.resize(initial_flat_indices(good.size(), frames_.size()).size());
  return good;
}

std::size_t flat_window::bad_frames() const {
  return bad_;
}

} // namespace seg::kernels
