#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "tools/segflow/args.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/synth/synth.hpp"

namespace seg::cli {

namespace {

// "WxH[,WxH...]" into `out`; false if malformed.
bool parse_seam_grids(const std::string& text, std::vector<cv::Size>& out) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    int w = 0, h = 0, used = 0;
    if (std::sscanf(item.c_str(), "%dx%d%n", &w, &h, &used) != 2 || used != int(item.size())
        || w <= 0 || h <= 0)
      return false;
    out.emplace_back(w, h);
    start = end + 1;
  }
  return true;
}

} // namespace

int run_synth(int argc, char** argv) {
  synth_options defaults;
  std::string out;
  std::string crops;
  std::int64_t frames = defaults.frames;
  std::int64_t width = defaults.width;
  std::int64_t height = defaults.height;
  std::int64_t objects = defaults.objects;
  std::int64_t seed = static_cast<std::int64_t>(defaults.seed);
  bool bad = false;
  std::int64_t stuck = defaults.stuck;
  std::string dense;
  std::string seam_grid;
  arg_parser parser(
    "segflow synth --out DIR [--frames N] [--width W] [--height H] [--objects K] "
    "[--seed S] [--crops DIR] [--bad] [--stuck N] [--dense FIRST:COUNT:K] "
    "[--seam-grid WxH[,WxH...]]",
    "Writes a synthetic PlanktoScope-layout acquisition into the data root DIR:\n"
    "DIR/img/<date>/synth-<seed>/<acq_id>/ (frames %Y-%m-%d_%H-%M-%S-%f.jpg,\n"
    "metadata.json, integrity.check) and DIR/ground_truth.json (every object's\n"
    "bbox, kind, area, edge cut; the illumination). Same options, same bytes.\n"
    "Frame = illumination x particle transmission + noise, JPEG q93; each frame\n"
    "draws Poisson(K) particles. Rerunning with the same options overwrites the\n"
    "acquisition with identical files; an acquisition folder holding frames made\n"
    "with other options is refused (exit 2).");
  parser.option("out", &out, "DIR", "data root to write into (required)");
  parser.option("frames", &frames, "N", "good frames (default 12)", 1, 100000);
  parser.option("width", &width, "W", "frame width, px (default 1014)", 64, 16384);
  parser.option("height", &height, "H", "frame height, px (default 760)", 64, 16384);
  parser.option("objects", &objects, "K", "mean particles per frame, Poisson (default 8)", 0,
                10000);
  parser.option("seed", &seed, "S", "random seed (default 1)", 0,
                std::numeric_limits<std::int64_t>::max());
  parser.option("crops", &crops, "DIR", "paste real crops (*.jpg) from DIR instead");
  parser.flag("bad", &bad, "add 5 faulty .jpg files after frame 10");
  parser.option("stuck", &stuck, "N",
                "particles stuck on the glass: same place in every good frame from "
                "index 10 on (default 0)",
                0, 100);
  parser.option("dense", &dense, "FIRST:COUNT:K",
                "frames FIRST..FIRST+COUNT-1 draw Poisson(K) particles (0-based)");
  parser.option("seam-grid", &seam_grid, "WxH[,WxH...]",
                "also put particles on the seams of these tile grids (as segment "
                "--tile-size cuts): across corners, on seams, across three tiles, with "
                "holes on seams and corners, at the frame border, just short of a seam");
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;

  synth_options opts;
  opts.out = out;
  opts.frames = static_cast<int>(frames);
  opts.width = static_cast<int>(width);
  opts.height = static_cast<int>(height);
  opts.objects = static_cast<int>(objects);
  opts.seed = static_cast<std::uint64_t>(seed);
  opts.crops = crops;
  opts.bad = bad;
  opts.stuck = static_cast<int>(stuck);
  if (!dense.empty()) {
    int used = 0;
    if (std::sscanf(dense.c_str(), "%d:%d:%d%n", &opts.dense_first, &opts.dense_count,
                    &opts.dense_objects, &used) != 3
        || used != int(dense.size())) {
      std::cerr << "error: --dense must be FIRST:COUNT:K (three integers), got '" << dense
                << "'\n(see segflow synth --help)\n";
      return exit_usage;
    }
  }
  if (!seam_grid.empty() && !parse_seam_grids(seam_grid, opts.seam_grids)) {
    std::cerr << "error: --seam-grid must be WxH or a comma-separated list of WxH (positive "
                 "integers), got '"
              << seam_grid << "'\n(see segflow synth --help)\n";
    return exit_usage;
  }
  if (auto err = validate(opts); !err.empty()) {
    std::cerr << "error: " << err << "\n(see segflow synth --help)\n";
    return exit_usage;
  }
  try {
    auto res = generate_acquisition(opts);
    std::cout << "acquisition: " << res.acquisition_dir.string() << "\n"
              << "ground_truth: " << res.ground_truth.string() << "\n";
    return exit_ok;
  } catch (const synth_conflict& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "error: synth failed: " << e.what() << "\n";
    return exit_failed;
  }
}

} // namespace seg::cli
