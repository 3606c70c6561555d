#include "kernels/mask.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgproc.hpp>

namespace seg::kernels {

namespace {

// A binary image packed 64 pixels per word (bit j of word i = column 64i+j),
// each row padded by one word on either side so shifted reads stay in bounds.
struct bitplane {
  int width = 0;
  int height = 0;
  int words = 0;  // data words per row
  int stride = 0; // words + 2
  std::vector<std::uint64_t> bits;

  void create(int w, int h) {
    width = w;
    height = h;
    words = (w + 63) / 64;
    stride = words + 2;
    bits.assign(static_cast<std::size_t>(stride) * static_cast<std::size_t>(h), 0);
  }
  std::uint64_t* row(int y) { return bits.data() + static_cast<std::size_t>(stride) * y + 1; }
  const std::uint64_t* row(int y) const {
    return bits.data() + static_cast<std::size_t>(stride) * y + 1;
  }

  // Sets everything outside the image in each row (pads and the unused high
  // bits of the last word) to the border value of the next operation.
  void fill_border(bool one) {
    const std::uint64_t b = one ? ~std::uint64_t{0} : 0;
    const int tail = width % 64;
    const std::uint64_t keep = tail ? (std::uint64_t{1} << tail) - 1 : ~std::uint64_t{0};
    for (int y = 0; y < height; ++y) {
      std::uint64_t* r = row(y);
      r[-1] = b;
      r[words] = b;
      r[words - 1] = (r[words - 1] & keep) | (b & ~keep);
    }
  }
};

// One structuring-element row: source row offset dy, column offsets
// [lo, hi] relative to the anchor (OpenCV's kernels have contiguous rows).
struct kernel_row {
  int dy;
  int lo;
  int hi;
};

bool kernel_rows(const cv::Mat& k, std::vector<kernel_row>& rows) {
  const cv::Point anchor(k.cols / 2, k.rows / 2); // OpenCV's default (-1,-1)
  rows.clear();
  for (int y = 0; y < k.rows; ++y) {
    int first = -1, last = -1;
    for (int x = 0; x < k.cols; ++x)
      if (k.at<std::uint8_t>(y, x)) {
        if (first < 0)
          first = x;
        else if (last != x - 1)
          return false;
        last = x;
      }
    if (first >= 0)
      rows.push_back({y - anchor.y, first - anchor.x, last - anchor.x});
  }
  for (const auto& r : rows)
    if (r.lo <= -64 || r.hi >= 64)
      return false;
  return !rows.empty();
}

// out[i] = (out[i] op) bits of `in` shifted so that output bit x reads input
// bit x + d, for the data words i of one row; d fixed per call so the loop
// has no branches.
template <bool Erode, bool Init>
void shift_into(const std::uint64_t* in, std::uint64_t* out, int words, int d) {
  auto put = [out](int i, std::uint64_t v) {
    if (Init)
      out[i] = v;
    else if (Erode)
      out[i] &= v;
    else
      out[i] |= v;
  };
  if (d == 0) {
    for (int i = 0; i < words; ++i)
      put(i, in[i]);
  } else if (d > 0) {
    const int e = 64 - d;
    for (int i = 0; i < words; ++i)
      put(i, (in[i] >> d) | (in[i + 1] << e));
  } else {
    const int l = -d, e = 64 + d;
    for (int i = 0; i < words; ++i)
      put(i, (in[i] << l) | (in[i - 1] >> e));
  }
}

template <bool Erode>
void combine(const std::uint64_t* in, std::uint64_t* out, int words) {
  for (int i = 0; i < words; ++i)
    out[i] = Erode ? out[i] & in[i] : out[i] | in[i];
}

template <bool Erode>
void morph_impl(bitplane& src, bitplane& dst, const std::vector<kernel_row>& rows,
                std::vector<std::uint64_t>& ring) {
  src.fill_border(Erode);
  // One horizontally reduced row per distinct [lo, hi], built in order of
  // length, each from the largest earlier span it contains; [0, 0] is src.
  struct span {
    int lo, hi, base;
  };
  std::vector<span> spans;
  for (const auto& r : rows)
    if (std::none_of(spans.begin(), spans.end(),
                     [&](const span& s) { return s.lo == r.lo && s.hi == r.hi; }))
      spans.push_back({r.lo, r.hi, -1});
  std::sort(spans.begin(), spans.end(),
            [](const span& a, const span& b) { return a.hi - a.lo < b.hi - b.lo; });
  for (std::size_t s = 0; s < spans.size(); ++s)
    for (std::size_t t = 0; t < s; ++t)
      if (spans[t].lo >= spans[s].lo && spans[t].hi <= spans[s].hi &&
          (spans[s].base < 0 || spans[t].hi - spans[t].lo >
                                    spans[static_cast<std::size_t>(spans[s].base)].hi -
                                        spans[static_cast<std::size_t>(spans[s].base)].lo))
        spans[s].base = static_cast<int>(t);
  std::vector<std::size_t> row_span(rows.size());
  int dy_min = rows.front().dy, dy_max = rows.front().dy;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    row_span[k] = static_cast<std::size_t>(
        std::find_if(spans.begin(), spans.end(),
                     [&](const span& x) { return x.lo == rows[k].lo && x.hi == rows[k].hi; }) -
        spans.begin());
    dy_min = std::min(dy_min, rows[k].dy);
    dy_max = std::max(dy_max, rows[k].dy);
  }
  // The horizontal rows live in a ring of as many rows as the kernel is tall,
  // per span: built once, just before the first output row that needs them,
  // and still in cache when the rows below use them.
  const int words = src.words;
  const int height = dy_max - dy_min + 1;
  ring.resize(spans.size() * static_cast<std::size_t>(height) * static_cast<std::size_t>(words));
  auto hrow = [&](std::size_t s, int sy) -> const std::uint64_t* {
    if (spans[s].lo == 0 && spans[s].hi == 0)
      return src.row(sy);
    return ring.data() + (s * static_cast<std::size_t>(height) +
                          static_cast<std::size_t>(sy % height)) *
                             static_cast<std::size_t>(words);
  };
  auto build = [&](int sy) {
    const std::uint64_t* in = src.row(sy);
    for (std::size_t s = 0; s < spans.size(); ++s) {
      const span& sp = spans[s];
      if (sp.lo == 0 && sp.hi == 0)
        continue;
      auto* out = const_cast<std::uint64_t*>(hrow(s, sy));
      int lo = sp.lo;
      if (sp.base >= 0) {
        const span& b = spans[static_cast<std::size_t>(sp.base)];
        const std::uint64_t* from = hrow(static_cast<std::size_t>(sp.base), sy);
        std::copy(from, from + words, out);
        for (int d = lo; d < b.lo; ++d)
          shift_into<Erode, false>(in, out, words, d);
        lo = b.hi + 1;
      } else {
        shift_into<Erode, true>(in, out, words, lo++);
      }
      for (int d = lo; d <= sp.hi; ++d)
        shift_into<Erode, false>(in, out, words, d);
    }
  };
  if (dst.width != src.width || dst.height != src.height)
    dst.create(src.width, src.height);
  int built = 0; // rows [0, built) of the horizontal planes are (or were) in the ring
  for (int y = 0; y < src.height; ++y) {
    for (; built < src.height && built <= y + dy_max; ++built)
      build(built);
    std::uint64_t* out = dst.row(y);
    std::fill(out, out + words, Erode ? ~std::uint64_t{0} : 0);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const int sy = y + rows[k].dy;
      if (sy < 0 || sy >= src.height)
        continue; // a border row: neutral for both operations
      combine<Erode>(hrow(row_span[k], sy), out, words);
    }
  }
}

// OpenCV erode (is_erode) or dilate with a row-contiguous kernel and the
// default constant border: outside pixels count as set for erosion and as
// clear for dilation.
void morph(bitplane& src, bitplane& dst, const std::vector<kernel_row>& rows, bool is_erode,
           std::vector<std::uint64_t>& ring) {
  if (is_erode)
    morph_impl<true>(src, dst, rows, ring);
  else
    morph_impl<false>(src, dst, rows, ring);
}

void pack(const cv::Mat& mask, bitplane& p) {
  p.create(mask.cols, mask.rows);
  for (int y = 0; y < mask.rows; ++y) {
    const std::uint8_t* m = mask.ptr<std::uint8_t>(y);
    std::uint64_t* out = p.row(y);
    int x = 0;
#if CV_SIMD128
    for (; x + 64 <= mask.cols; x += 64) {
      std::uint64_t w = 0;
      for (int k = 0; k < 4; ++k) {
        const cv::v_uint8x16 v = cv::v_load(m + x + 16 * k) != cv::v_setzero_u8();
        w |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(cv::v_signmask(v))) << (16 * k);
      }
      out[x / 64] = w;
    }
#endif
    for (; x < mask.cols; ++x)
      if (m[x])
        out[x / 64] |= std::uint64_t{1} << (x % 64);
  }
}

void unpack(const bitplane& p, cv::Mat& mask) {
  mask.create(p.height, p.width, CV_8UC1);
  for (int y = 0; y < p.height; ++y) {
    const std::uint64_t* in = p.row(y);
    std::uint8_t* m = mask.ptr<std::uint8_t>(y);
    // Masks are mostly background: clear the row once, then set bits.
    std::memset(m, 0, static_cast<std::size_t>(p.width));
    for (int i = 0; i < p.words; ++i) {
      std::uint64_t w = in[i];
      if (w == 0)
        continue;
      const int x0 = 64 * i;
      const int n = std::min(64, p.width - x0);
      if (n < 64)
        w &= (std::uint64_t{1} << n) - 1;
      if (w == ~std::uint64_t{0}) {
        std::memset(m + x0, 255, 64);
        continue;
      }
      for (; w; w &= w - 1)
        m[x0 + __builtin_ctzll(w)] = 255;
    }
  }
}

// Packs gray <= t (THRESH_BINARY_INV) straight into bits.
void pack_le(const cv::Mat& gray, int t, bitplane& p) {
  p.create(gray.cols, gray.rows);
  if (t < 0)
    return;
  const auto tb = static_cast<std::uint8_t>(std::min(t, 255));
  for (int y = 0; y < gray.rows; ++y) {
    const std::uint8_t* g = gray.ptr<std::uint8_t>(y);
    std::uint64_t* out = p.row(y);
    int x = 0;
#if CV_SIMD128
    const cv::v_uint8x16 vt = cv::v_setall_u8(tb);
    for (; x + 64 <= gray.cols; x += 64) {
      std::uint64_t w = 0;
      for (int k = 0; k < 4; ++k) {
        const cv::v_uint8x16 v = cv::v_load(g + x + 16 * k) <= vt;
        w |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(cv::v_signmask(v))) << (16 * k);
      }
      out[x / 64] = w;
    }
#endif
    for (; x < gray.cols; ++x)
      if (g[x] <= tb)
        out[x / 64] |= std::uint64_t{1} << (x % 64);
  }
}

// Step 0 as bytes (cv::threshold's THRESH_BINARY_INV): 255 where gray <= t.
void threshold_le(const cv::Mat& gray, int t, cv::Mat& out) {
  cv::compare(gray, t, out, cv::CMP_LE);
}

struct scratch {
  cv::Mat gray, step0, both;
  bitplane a, b;
  std::vector<std::uint64_t> ring; // morph's horizontal rows
  std::vector<kernel_row> rect_rows, ellipse_rows;
};

scratch& tls_scratch() {
  // Reused per thread: full-frame buffers would otherwise be page-faulted in
  // on every frame.
  thread_local scratch s;
  return s;
}

} // namespace

// OpenCV 4.6's THRESH_TRIANGLE threshold (getThreshVal_Triangle_8u), a pure
// function of the histogram: the bin farthest from the line joining the
// histogram's peak to its far end (bounds widened by one bin), minus one,
// mirrored when the long tail is on the right. Tested against cv::threshold.
int triangle_threshold(const gray_histogram& hist) {
  constexpr int n = 256;
  gray_histogram h = hist;
  int left = 0, right = 0, peak = 0;
  std::int64_t peak_count = 0;
  for (int i = 0; i < n; ++i)
    if (h[i] > 0) {
      left = i;
      break;
    }
  if (left > 0)
    --left;
  for (int i = n - 1; i > 0; --i)
    if (h[i] > 0) {
      right = i;
      break;
    }
  if (right < n - 1)
    ++right;
  for (int i = 0; i < n; ++i)
    if (h[i] > peak_count) {
      peak_count = h[i];
      peak = i;
    }
  const bool flipped = peak - left < right - peak;
  if (flipped) {
    std::reverse(h.begin(), h.end());
    left = n - 1 - right;
    peak = n - 1 - peak;
  }
  // OpenCV keeps these in double and int; same values here.
  double thresh = left, dist = 0;
  const double a = static_cast<double>(peak_count), b = left - peak;
  for (int i = left + 1; i <= peak; ++i) {
    const double d = a * i + b * static_cast<double>(h[i]);
    if (d > dist) {
      dist = d;
      thresh = i;
    }
  }
  thresh -= 1;
  if (flipped)
    thresh = n - 1 - thresh;
  return static_cast<int>(thresh);
}

mask_result make_mask(const cv::Mat& corrected, const mask_params& p,
                      cv::Mat* previous_threshold_mask) {
  CV_Assert(corrected.type() == CV_8UC3 && !corrected.empty());
  scratch& s = tls_scratch();
  gray_histogram hist;
  gray_and_histogram(corrected, s.gray, hist);
  return make_mask(s.gray, hist, p, previous_threshold_mask);
}

mask_result make_mask(const cv::Mat& gray, const gray_histogram& hist, const mask_params& p,
                      cv::Mat* previous_threshold_mask) {
  return make_mask_at(gray, triangle_threshold(hist), p, previous_threshold_mask);
}

int morphology_reach(const mask_params& p) {
  // OpenCV's default anchor is (size/2, size/2): offsets -size/2 .. size-1-size/2.
  auto reach = [](int size) { return std::max(size / 2, size - 1 - size / 2); };
  // erode (rect), dilate, close (dilate + erode), erode (ellipse)
  return reach(p.erode_size) + 4 * reach(p.ellipse_size);
}

mask_result make_mask_at(const cv::Mat& gray, int t, const mask_params& p,
                         cv::Mat* previous_threshold_mask) {
  CV_Assert(gray.type() == CV_8UC1 && !gray.empty());
  CV_Assert(p.erode_size >= 1 && p.ellipse_size >= 1);
  CV_Assert(!p.remove_previous_mask || previous_threshold_mask != nullptr);
  scratch& s = tls_scratch();
  mask_result r;
  const cv::Mat rect = cv::getStructuringElement(cv::MORPH_RECT, {p.erode_size, p.erode_size});
  const cv::Mat ellipse =
      cv::getStructuringElement(cv::MORPH_ELLIPSE, {p.ellipse_size, p.ellipse_size});
  const bool bitset = p.morphology == morphology_impl::bitset &&
                      kernel_rows(rect, s.rect_rows) && kernel_rows(ellipse, s.ellipse_rows);
  r.threshold = t;
  if (bitset && !p.remove_previous_mask) {
    pack_le(gray, t, s.a); // step 0 straight into bits, no byte mask
  } else {
    threshold_le(gray, t, s.step0);
    if (p.remove_previous_mask) {
      cv::Mat& prev = *previous_threshold_mask;
      if (prev.empty()) {
        prev = s.step0.clone();
      } else {
        CV_Assert(prev.size() == s.step0.size() && prev.type() == CV_8UC1);
        cv::Mat current = s.step0.clone(); // the next frame's state
        cv::bitwise_and(s.step0, prev, s.both);
        cv::subtract(s.step0, s.both, s.step0);
        prev = current;
      }
    }
    if (bitset)
      pack(s.step0, s.a);
  }
  if (bitset) {
    morph(s.a, s.b, s.rect_rows, true, s.ring);
    morph(s.b, s.a, s.ellipse_rows, false, s.ring);
    morph(s.a, s.b, s.ellipse_rows, false, s.ring); // close = dilate, then erode
    morph(s.b, s.a, s.ellipse_rows, true, s.ring);
    morph(s.a, s.b, s.ellipse_rows, true, s.ring);
    unpack(s.b, r.mask);
  } else {
    cv::Mat a, b;
    cv::erode(s.step0, a, rect);
    cv::dilate(a, b, ellipse);
    cv::morphologyEx(b, a, cv::MORPH_CLOSE, ellipse);
    cv::erode(a, r.mask, ellipse);
  }
  return r;
}

cv::Mat threshold_mask(const cv::Mat& corrected) {
  CV_Assert(corrected.type() == CV_8UC3 && !corrected.empty());
  scratch& s = tls_scratch();
  gray_histogram hist;
  gray_and_histogram(corrected, s.gray, hist);
  return threshold_mask(s.gray, hist);
}

cv::Mat threshold_mask(const cv::Mat& gray, const gray_histogram& hist) {
  CV_Assert(gray.type() == CV_8UC1 && !gray.empty());
  cv::Mat out;
  threshold_le(gray, triangle_threshold(hist), out);
  return out;
}

} // namespace seg::kernels
