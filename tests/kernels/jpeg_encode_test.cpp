// encode_jpeg against cv::imencode, the encoder of OpenCV 4.6 that wrote the
// reference's crops: the same bytes for crops of real frames, random images,
// every quality, grey images and views into larger images.
#include "kernels/jpeg_encode.hpp"

#include <filesystem>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace {

namespace fs = std::filesystem;
using seg::kernels::encode_jpeg;

std::vector<std::uint8_t> opencv_jpeg(const cv::Mat& image, int quality) {
  std::vector<std::uint8_t> out;
  REQUIRE(cv::imencode(".jpg", image, out, {cv::IMWRITE_JPEG_QUALITY, quality}));
  return out;
}

cv::Mat random_image(std::mt19937& rng, int type) {
  std::uniform_int_distribution<int> side(1, 300);
  cv::Mat m(side(rng), side(rng), type);
  cv::randu(m, 0, 256);
  // Smooth parts too, like real crops: mostly background with a blob.
  if (rng() % 2)
    cv::blur(m, m, cv::Size(7, 7));
  return m;
}

} // namespace

TEST_CASE("encode_jpeg writes cv::imencode's bytes: random BGR and grey images, every "
          "quality",
          "[kernel][jpeg_encode]") {
  std::mt19937 rng(20261203);
  for (int i = 0; i < 300; ++i) {
    int type = i % 4 == 0 ? CV_8UC1 : CV_8UC3;
    auto image = random_image(rng, type);
    int quality = int(rng() % 101);
    INFO("image " << i << ": " << image.cols << "x" << image.rows << " channels "
                  << image.channels() << " quality " << quality);
    CHECK(encode_jpeg(image, quality) == opencv_jpeg(image, quality));
  }
  // Out-of-range qualities are clamped as OpenCV clamps them.
  auto image = random_image(rng, CV_8UC3);
  CHECK(encode_jpeg(image, 150) == opencv_jpeg(image, 100));
  CHECK(encode_jpeg(image, -5) == opencv_jpeg(image, 0));
}

TEST_CASE("encode_jpeg writes cv::imencode's bytes for crops cut out of a real frame "
          "(views with the frame's row step)",
          "[kernel][jpeg_encode]") {
  const fs::path dir = fs::path(SEGFLOW_SHARED_DATA) / "composed" / "dev-small";
  REQUIRE(fs::exists(dir));
  fs::path frame;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".jpg") {
      frame = e.path();
      break;
    }
  REQUIRE_FALSE(frame.empty());
  cv::Mat image = cv::imread(frame.string(), cv::IMREAD_COLOR);
  REQUIRE_FALSE(image.empty());
  std::mt19937 rng(7);
  std::vector<std::uint8_t> reused;
  for (int i = 0; i < 200; ++i) {
    int w = 1 + int(rng() % 400), h = 1 + int(rng() % 400);
    cv::Rect r(int(rng() % std::uint32_t(image.cols - w)), int(rng() % std::uint32_t(image.rows - h)),
               w, h);
    cv::Mat crop = image(r);
    REQUIRE((h == 1 || !crop.isContinuous()));
    INFO("crop " << i << " " << r);
    encode_jpeg(crop, 95, reused); // the segmenter's crop quality; the buffer is reused
    CHECK(reused == opencv_jpeg(crop, 95));
  }
  // The whole 12 MP frame: the output buffer grows many times over.
  CHECK(encode_jpeg(image, 93) == opencv_jpeg(image, 93));
}

TEST_CASE("encode_jpeg refuses what it cannot encode, with the reason",
          "[kernel][jpeg_encode]") {
  CHECK_THROWS_AS(encode_jpeg(cv::Mat(), 90), std::invalid_argument);
  CHECK_THROWS_AS(encode_jpeg(cv::Mat(4, 4, CV_16UC3, cv::Scalar::all(0)), 90),
                  std::invalid_argument);
  CHECK_THROWS_AS(encode_jpeg(cv::Mat(4, 4, CV_8UC4, cv::Scalar::all(0)), 90),
                  std::invalid_argument);
  // Wider than JPEG's 65,500 px: libjpeg's own error, as an exception.
  cv::Mat wide(1, 70000, CV_8UC1, cv::Scalar(0));
  CHECK_THROWS_WITH(encode_jpeg(wide, 90), Catch::Contains("JPEG encoding failed"));
}
