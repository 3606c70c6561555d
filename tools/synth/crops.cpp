#include "tools/synth/crops.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include <fstream>
#include <iterator>

#include <opencv2/imgproc.hpp>

#include "kernels/decode.hpp"

namespace fs = std::filesystem;

namespace seg::detail {

namespace {

constexpr double crop_background = 245;  // grey of the upstream-corrected crops

// A crop file's pixels (cv::imread's), empty if it is no readable JPEG.
cv::Mat read_crop(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  try {
    return kernels::decode_jpeg(bytes.data(), bytes.size(), kernels::any_jpeg_pixels);
  } catch (const std::exception&) {
    return {};
  }
}

bool is_jpeg_name(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".jpg" || ext == ".jpeg";
}

} // namespace

std::vector<fs::path> list_jpegs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec) && is_jpeg_name(it->path()))
      out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<const crop_pool> load_crops(const fs::path& dir, int w, int h) {
  auto pool = std::make_shared<crop_pool>();
  // Pasted at their own size (as compose.py does for the 1014×760 dev set),
  // so that most pass the segmenter's size filter; shrunk only for frames
  // smaller than 1014×760.
  const double scale = std::min(1.0, std::sqrt(static_cast<double>(w) * h / (1014.0 * 760.0)));
  for (auto& file : list_jpegs(dir)) {
    cv::Mat img = read_crop(file);
    if (img.empty() || img.rows < 8 || img.cols < 8)
      continue;
    cv::Mat grey;
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    // Skip crops whose 3-px border is not clean background (a cut neighbour):
    // pasted, they would show a hard edge (same rule as compose.py).
    std::vector<uchar> ring;
    for (int y = 0; y < grey.rows; ++y)
      for (int x = 0; x < grey.cols; ++x)
        if (y < 3 || x < 3 || y >= grey.rows - 3 || x >= grey.cols - 3)
          ring.push_back(grey.at<uchar>(y, x));
    auto nth = ring.begin() + static_cast<std::ptrdiff_t>(ring.size() / 20);
    std::nth_element(ring.begin(), nth, ring.end());
    if (*nth < 235)
      continue;
    if (scale != 1.0) {
      cv::Mat small;
      cv::resize(img, small, cv::Size(), scale, scale,
                 scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
      img = small;
      cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    }
    if (img.cols > w / 3 || img.rows > h / 3 || img.cols < 3 || img.rows < 3)
      continue;
    crop_item item;
    item.name = file.filename().string();
    img.convertTo(item.ratio, CV_32FC3, 1.0 / crop_background);
    cv::compare(grey, 0.9 * crop_background, item.mask, cv::CMP_LT);
    item.mask /= 255;
    if (cv::countNonZero(item.mask) == 0)
      continue;
    pool->push_back(std::move(item));
  }
  return pool;
}

patch render_crop(const crop_item& c, int flip, int x, int y, int w, int h) {
  static const char* const flips[] = {"none", "h", "v", "hv"};
  patch p;
  p.window = {x, y, c.ratio.cols, c.ratio.rows};
  cv::Mat3f ratio;
  cv::Mat1b mask;
  if (flip == 0) {
    ratio = c.ratio; // shared, read only
    mask = c.mask;
  } else {
    const int code = flip == 1 ? 1 : flip == 2 ? 0 : -1;
    cv::flip(c.ratio, ratio, code);
    cv::flip(c.mask, mask, code);
  }
  double opacity_sum = 0;
  for (int yy = 0; yy < mask.rows; ++yy)
    for (int xx = 0; xx < mask.cols; ++xx)
      if (mask(yy, xx)) {
        const cv::Vec3f& t = ratio(yy, xx);
        opacity_sum += 1 - (t[0] + t[1] + t[2]) / 3;
      }
  p.trans = ratio;
  p.truth.kind = "crop";
  p.truth.crop = c.name;
  p.truth.flip = flips[flip];
  p.truth.paste_rect = p.window;
  fill_stats(p.truth, p.window, mask, w, h, opacity_sum);
  return p;
}

} // namespace seg::detail
