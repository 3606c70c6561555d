// Single-threaded kernel timings on a real 4056x3040 frame of the composed
// dev-a acquisition (flat from its first 9 frames, computed once).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "kernels/correct.hpp"
#include "kernels/correct_bands.hpp"
#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/frame_bands.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"

namespace fs = std::filesystem;
using namespace seg::kernels;

namespace {

struct fixture {
  std::vector<fs::path> frames;
  std::vector<cv::Mat> flat_frames;
  cv::Mat flat;
  fs::path frame_path;
  std::vector<std::uint8_t> jpeg;
  cv::Mat raw, corrected, gray, threshold_mask;
  mask_result mask;
  labelling labelled;
  std::vector<region> kept;
};

fixture& data() {
  static fixture f = [] {
    fixture f;
    const fs::path root = fs::path(SEGFLOW_SHARED_DATA) / "composed" / "dev-a" / "img";
    fs::path dir;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.path().filename() == "metadata.json")
        dir = e.path().parent_path();
    if (dir.empty())
      throw std::runtime_error("dev-a acquisition not found under " + root.string());
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".jpg")
        f.frames.push_back(e.path());
    std::sort(f.frames.begin(), f.frames.end());
    for (auto i : initial_flat_indices(f.frames.size()))
      f.flat_frames.push_back(cv::imread(f.frames[i].string(), cv::IMREAD_COLOR));
    f.flat = median_flat(f.flat_frames);
    // A frame outside the flat's 9.
    f.frame_path = f.frames.at(std::min<std::size_t>(10, f.frames.size() - 1));
    std::ifstream in(f.frame_path, std::ios::binary);
    f.jpeg.assign(std::istreambuf_iterator<char>(in), {});
    f.raw = cv::imdecode(f.jpeg, cv::IMREAD_COLOR);
    f.corrected = correct_frame(f.raw, f.flat);
    cv::cvtColor(f.corrected, f.gray, cv::COLOR_BGR2GRAY);
    cv::threshold(f.gray, f.threshold_mask, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE);
    f.mask = make_mask(f.corrected, {}, nullptr);
    f.labelled = label_regions(f.mask.mask);
    f.kept = filter_regions(f.labelled.regions, {});
    return f;
  }();
  return f;
}

// The worker's steps: correct (with gray and histogram), mask, label,
// features, crops.
void run_frame(const cv::Mat& raw, cv::Mat& corrected, std::size_t& crop_bytes) {
  const fixture& f = data();
  static cv::Mat gray;
  gray_histogram hist;
  correct_frame_gray(raw, f.flat, corrected, gray, hist);
  const mask_result m = make_mask(gray, hist, {}, nullptr);
  const labelling l = label_regions(m.mask);
  const auto kept = filter_regions(l.regions, {});
  const auto features = measure_regions(l, kept, corrected);
  benchmark::DoNotOptimize(features.data());
  for (const auto& r : kept)
    crop_bytes += encode_crop_jpeg(corrected, crop_rect(r.bbox, corrected.size())).size();
}

void decode_imdecode(benchmark::State& s) {
  for (auto _ : s)
    benchmark::DoNotOptimize(cv::imdecode(data().jpeg, cv::IMREAD_COLOR).data);
}

void decode_imread(benchmark::State& s) {
  for (auto _ : s)
    benchmark::DoNotOptimize(cv::imread(data().frame_path.string(), cv::IMREAD_COLOR).data);
}

// The pipeline's strict decoder (libjpeg-turbo directly).
void decode_strict(benchmark::State& s) {
  for (auto _ : s)
    benchmark::DoNotOptimize(
        decode_jpeg(data().jpeg.data(), data().jpeg.size(), 100'000'000).data);
}

void flat_median_9(benchmark::State& s) {
  cv::Mat flat(data().flat.size(), CV_8UC3);
  for (auto _ : s) {
    median_flat_rows(data().flat_frames, 0, flat.rows, flat);
    benchmark::DoNotOptimize(flat.data);
  }
}

void correct(benchmark::State& s) {
  cv::Mat out;
  for (auto _ : s) {
    correct_frame(data().raw, data().flat, out);
    benchmark::DoNotOptimize(out.data);
  }
}

// The worker's correction: also the gray image and its histogram.
void correct_gray(benchmark::State& s) {
  cv::Mat out, gray;
  gray_histogram hist;
  for (auto _ : s) {
    correct_frame_gray(data().raw, data().flat, out, gray, hist);
    benchmark::DoNotOptimize(out.data);
  }
}

void correct_gray_in_place(benchmark::State& s) {
  cv::Mat frame = data().raw.clone(), gray;
  gray_histogram hist;
  for (auto _ : s) {
    s.PauseTiming();
    data().raw.copyTo(frame);
    s.ResumeTiming();
    correct_frame_gray(frame, data().flat, frame, gray, hist);
    benchmark::DoNotOptimize(frame.data);
  }
}

// A fresh output every frame: a 37 MB buffer comes from mmap, so every page
// is faulted in and zeroed by the kernel before the correction writes it.
void correct_fresh_output(benchmark::State& s) {
  for (auto _ : s)
    benchmark::DoNotOptimize(correct_frame(data().raw, data().flat).data);
}

void mask_all(benchmark::State& s) {
  for (auto _ : s)
    benchmark::DoNotOptimize(make_mask(data().corrected, {}, nullptr).mask.data);
}

// The worker's mask step: from correct_frame_gray's gray and histogram.
void mask_from_gray(benchmark::State& s) {
  gray_histogram hist;
  cv::Mat gray;
  gray_and_histogram(data().corrected, gray, hist);
  for (auto _ : s)
    benchmark::DoNotOptimize(make_mask(gray, hist, {}, nullptr).mask.data);
}

void gray_histogram_pass(benchmark::State& s) {
  gray_histogram hist;
  cv::Mat gray;
  for (auto _ : s) {
    gray_and_histogram(data().corrected, gray, hist);
    benchmark::DoNotOptimize(gray.data);
  }
}

void mask_all_opencv_morphology(benchmark::State& s) {
  mask_params p;
  p.morphology = morphology_impl::opencv;
  for (auto _ : s)
    benchmark::DoNotOptimize(make_mask(data().corrected, p, nullptr).mask.data);
}

// OpenCV's versions of the steps inside correct_frame_gray and make_mask, each
// on its real input (the pipeline calls none of them: its own code is
// bit-exact with them).
void mask_gray(benchmark::State& s) {
  cv::Mat gray;
  for (auto _ : s)
    cv::cvtColor(data().corrected, gray, cv::COLOR_BGR2GRAY);
}

void opencv_threshold(benchmark::State& s) {
  cv::Mat out;
  for (auto _ : s)
    benchmark::DoNotOptimize(
        cv::threshold(data().gray, out, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE));
}

void opencv_erode_rect(benchmark::State& s) {
  cv::Mat out;
  const cv::Mat k = cv::getStructuringElement(cv::MORPH_RECT, {2, 2});
  for (auto _ : s)
    cv::erode(data().threshold_mask, out, k);
}

void opencv_dilate_ellipse(benchmark::State& s) {
  cv::Mat out;
  const cv::Mat k = cv::getStructuringElement(cv::MORPH_ELLIPSE, {8, 8});
  for (auto _ : s)
    cv::dilate(data().mask.mask, out, k);
}

void opencv_close_ellipse(benchmark::State& s) {
  cv::Mat out;
  const cv::Mat k = cv::getStructuringElement(cv::MORPH_ELLIPSE, {8, 8});
  for (auto _ : s)
    cv::morphologyEx(data().mask.mask, out, cv::MORPH_CLOSE, k);
}

void label_and_filter(benchmark::State& s) {
  for (auto _ : s) {
    const labelling l = label_regions(data().mask.mask);
    benchmark::DoNotOptimize(filter_regions(l.regions, {}).data());
  }
  s.counters["regions"] = static_cast<double>(data().labelled.regions.size());
  s.counters["kept"] = static_cast<double>(data().kept.size());
}

void measure(benchmark::State& s) {
  for (auto _ : s)
    benchmark::DoNotOptimize(measure_regions(data().labelled, data().kept, data().corrected).data());
}

void encode_crops(benchmark::State& s) {
  std::size_t bytes = 0;
  for (auto _ : s)
    for (const auto& r : data().kept)
      bytes += encode_crop_jpeg(data().corrected, crop_rect(r.bbox, data().corrected.size())).size();
  benchmark::DoNotOptimize(bytes);
}

void frame_excluding_decode(benchmark::State& s) {
  cv::Mat corrected;
  std::size_t bytes = 0;
  for (auto _ : s)
    run_frame(data().raw, corrected, bytes);
}

// Decoded as a worker does (kernels::decode_jpeg into a buffer kept across
// frames), then corrected in place in that buffer.
void frame_including_decode(benchmark::State& s) {
  cv::Mat frame;
  std::size_t bytes = 0;
  for (auto _ : s) {
    decode_jpeg(data().jpeg.data(), data().jpeg.size(), 100'000'000, frame);
    run_frame(frame, frame, bytes);
  }
}

// Decode, correct, gray and histogram of one frame as a worker does it
// without bands: decoded whole into a kept buffer, then corrected in place.
void decode_then_correct(benchmark::State& s) {
  cv::Mat frame, gray;
  gray_histogram hist;
  for (auto _ : s) {
    decode_jpeg(data().jpeg.data(), data().jpeg.size(), 100'000'000, frame);
    correct_frame_gray(frame, data().flat, frame, gray, hist);
    benchmark::DoNotOptimize(hist.data());
  }
}

// The same while decoding (pipeline.decode_band_rows = the argument), in
// the worker's messages of at least 64 rows, into kept buffers.
void correct_while_decoding(benchmark::State& s) {
  const int band_rows = int(s.range(0));
  cv::Mat frame, gray;
  for (auto _ : s) {
    banded_correction bands(
        jpeg_band_reader(data().jpeg.data(), data().jpeg.size(), 100'000'000), band_rows);
    while (!bands.advance(data().flat, frame, gray, std::max(64, band_rows))) {
    }
    benchmark::DoNotOptimize(bands.histogram().data());
  }
}

// The same frame as PNG and TIFF, written once by OpenCV (argument: 0 PNG at
// OpenCV's default compression, 1 LZW TIFF, 2 uncompressed TIFF).
const std::vector<std::uint8_t>& frame_in_format(int format) {
  static std::vector<std::uint8_t> files[3];
  auto& f = files[format];
  if (f.empty()) {
    std::vector<uchar> out;
    const int compression = format == 1 ? 5 : 1;
    cv::imencode(format == 0 ? ".png" : ".tiff", data().raw, out,
                 format == 0 ? std::vector<int>{}
                             : std::vector<int>{cv::IMWRITE_TIFF_COMPRESSION, compression});
    f.assign(out.begin(), out.end());
  }
  return f;
}
const char* format_names[] = {"png", "tiff-lzw", "tiff-none"};

// segflow's reader (kernels::decode_frame: the band reader into the whole
// frame), beside OpenCV's on the same bytes.
void decode_format_strict(benchmark::State& s) {
  const auto& f = frame_in_format(int(s.range(0)));
  s.SetLabel(format_names[s.range(0)]);
  cv::Mat frame;
  for (auto _ : s) {
    decode_frame(f.data(), f.size(), 100'000'000, frame);
    benchmark::DoNotOptimize(frame.data);
  }
}

void decode_format_imdecode(benchmark::State& s) {
  const auto& f = frame_in_format(int(s.range(0)));
  s.SetLabel(format_names[s.range(0)]);
  for (auto _ : s)
    benchmark::DoNotOptimize(cv::imdecode(f, cv::IMREAD_COLOR).data);
}

// Corrected while decoding in 16-row bands, as correct_while_decoding/16.
void correct_while_decoding_format(benchmark::State& s) {
  const auto& f = frame_in_format(int(s.range(0)));
  s.SetLabel(format_names[s.range(0)]);
  cv::Mat frame, gray;
  for (auto _ : s) {
    banded_correction bands(frame_band_reader(f.data(), f.size(), 100'000'000), 16);
    while (!bands.advance(data().flat, frame, gray, 64)) {
    }
    benchmark::DoNotOptimize(bands.histogram().data());
  }
}

// BENCHMARK on each row path of the correction, side by side in one run (the
// argument: 0 best = AVX2 on x86-64, 1 the 128-bit path = SSE on x86-64 and
// NEON on arm64, 2 scalar): the vector paths must not be slower.
template <void (*Bench)(benchmark::State&)>
void on_row_path(benchmark::State& s) {
  const vector_path paths[] = {vector_path::best, vector_path::simd128, vector_path::scalar};
  const char* names[] = {"best", "simd128", "scalar"};
  use_vector_path(paths[s.range(0)]);
  s.SetLabel(names[s.range(0)]);
  Bench(s);
  use_vector_path(vector_path::best);
}

} // namespace

BENCHMARK(on_row_path<correct_gray_in_place>)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(on_row_path<frame_excluding_decode>)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(decode_imdecode)->Unit(benchmark::kMillisecond);
BENCHMARK(decode_imread)->Unit(benchmark::kMillisecond);
BENCHMARK(decode_strict)->Unit(benchmark::kMillisecond);
BENCHMARK(flat_median_9)->Unit(benchmark::kMillisecond);
BENCHMARK(correct)->Unit(benchmark::kMillisecond);
BENCHMARK(correct_gray)->Unit(benchmark::kMillisecond);
BENCHMARK(correct_gray_in_place)->Unit(benchmark::kMillisecond);
BENCHMARK(correct_fresh_output)->Unit(benchmark::kMillisecond);
BENCHMARK(mask_all)->Unit(benchmark::kMillisecond);
BENCHMARK(mask_from_gray)->Unit(benchmark::kMillisecond);
BENCHMARK(gray_histogram_pass)->Unit(benchmark::kMillisecond);
BENCHMARK(mask_all_opencv_morphology)->Unit(benchmark::kMillisecond);
BENCHMARK(mask_gray)->Unit(benchmark::kMillisecond);
BENCHMARK(opencv_threshold)->Unit(benchmark::kMillisecond);
BENCHMARK(opencv_erode_rect)->Unit(benchmark::kMillisecond);
BENCHMARK(opencv_dilate_ellipse)->Unit(benchmark::kMillisecond);
BENCHMARK(opencv_close_ellipse)->Unit(benchmark::kMillisecond);
BENCHMARK(label_and_filter)->Unit(benchmark::kMillisecond);
BENCHMARK(measure)->Unit(benchmark::kMillisecond);
BENCHMARK(encode_crops)->Unit(benchmark::kMillisecond);
BENCHMARK(frame_excluding_decode)->Unit(benchmark::kMillisecond);
BENCHMARK(frame_including_decode)->Unit(benchmark::kMillisecond);
BENCHMARK(decode_then_correct)->Unit(benchmark::kMillisecond);
BENCHMARK(correct_while_decoding)->Arg(1)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Arg(256)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(decode_format_imdecode)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(decode_format_strict)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(correct_while_decoding_format)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  cv::setNumThreads(1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  data(); // load outside the timings
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
