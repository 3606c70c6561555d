// previous_mask_oracle ACQ_DIR: the oracle of the remove_previous_mask CLI
// test. Segments an acquisition with the kernels in one sequential loop, as
// the reference does: decode, correct with the flat (median of the first
// frames, which must all decode), make_mask with the previous raw threshold
// mask carried from frame to frame, label, size filter (20 px, the
// planktoscope profile). Unlike the reference, and like segflow, the state
// starts empty for each acquisition and is dropped when the last frame that
// reached the mask is more than 3 frames back (reader.cpp's
// previous_mask_lookback). Prints one line per kept object,
// "<frame stem>_<i>\t<bx>\t<by>\t<width>\t<height>\t<area_exc>", in frame
// order; exit 1 on an unusable flat window.
//
// previous_mask_oracle --stuck GROUND_TRUTH: prints synth's stuck particles,
// "<good frame index>\t<frame stem>\t<x>\t<y>\t<w>\t<h>" (bbox).
#include <exception>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/frame_file.hpp"
#include "kernels/correct.hpp"
#include "kernels/decode.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"

namespace {

constexpr std::int64_t max_pixels = 100'000'000;
constexpr long lookback = 3;

cv::Mat decode_frame(const std::filesystem::path& dir, const std::string& name) {
  auto bytes = seg::io::read_frame_file(dir, name, seg::io::max_frame_file_bytes(max_pixels));
  return seg::kernels::decode_jpeg(bytes.data(), bytes.size(), max_pixels);
}

int print_stuck(const char* ground_truth) {
  std::ifstream in(ground_truth);
  auto gt = nlohmann::json::parse(in);
  for (const auto& f : gt.at("frames")) {
    std::string file = f.at("file");
    for (const auto& o : f.at("objects"))
      if (o.value("stuck", false)) {
        const auto& b = o.at("bbox");
        std::cout << f.at("index") << '\t' << file.substr(0, file.rfind('.')) << '\t' << b[0]
                  << '\t' << b[1] << '\t' << b[2] << '\t' << b[3] << '\n';
      }
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const bool stuck = argc == 3 && std::string(argv[1]) == "--stuck";
  if (argc != 2 && !stuck) {
    std::cerr << "usage: previous_mask_oracle ACQ_DIR | --stuck GROUND_TRUTH\n";
    return 2;
  }
  try {
    if (stuck)
      return print_stuck(argv[2]);
    auto acq = seg::io::open_acquisition(argv[1]);
    std::vector<cv::Mat> stack;
    for (auto i : seg::kernels::initial_flat_indices(acq.frames.size()))
      stack.push_back(decode_frame(acq.dir, acq.frames[i]));
    const cv::Mat flat = seg::kernels::median_flat(stack);
    stack.clear();

    seg::kernels::mask_params mp;
    mp.remove_previous_mask = true;
    seg::kernels::size_filter_params fp; // 20 px
    cv::Mat previous;
    long previous_index = -1;
    for (long k = 0; k < long(acq.frames.size()); ++k) {
      const auto& name = acq.frames[std::size_t(k)];
      cv::Mat frame;
      try {
        frame = decode_frame(acq.dir, name);
      } catch (const std::exception&) {
        continue; // a bad frame: no objects, the state stays
      }
      if (frame.size() != flat.size())
        continue;
      const cv::Mat corrected = seg::kernels::correct_frame(frame, flat);
      if (previous_index < k - lookback)
        previous.release();
      const auto mask = seg::kernels::make_mask(corrected, mp, &previous);
      previous_index = k;
      const auto labelled = seg::kernels::label_regions(mask.mask);
      const auto kept = seg::kernels::filter_regions(labelled.regions, fp);
      const auto stem = name.substr(0, name.rfind('.'));
      for (std::size_t i = 0; i < kept.size(); ++i) {
        const auto& b = kept[i].bbox;
        std::cout << stem << '_' << i << '\t' << b.x << '\t' << b.y << '\t' << b.width << '\t'
                  << b.height << '\t' << kept[i].area << '\n';
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "previous_mask_oracle: " << e.what() << "\n";
    return 1;
  }
}
