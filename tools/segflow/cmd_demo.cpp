// `segflow demo`: the main job on built-in data. Synthesises an acquisition
// with segflow's own generator, segments it and says where the outputs are.
#include <iostream>

#include <spdlog/spdlog.h>

#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/segment_run.hpp"
#include "tools/synth/synth.hpp"

namespace seg::cli {

int run_demo(int argc, char** argv) {
  settings_options opts;
  std::string out = "demo";
  std::int64_t frames = 12;
  std::int64_t width = 2028;
  std::int64_t height = 1520;
  std::int64_t objects = 15;
  std::int64_t workers = -1;
  arg_parser parser("segflow demo [--out DIR] [--frames N] [--width W] [--height H] "
                    "[--objects K] [--workers N]",
                    "Writes a synthetic PlanktoScope-layout acquisition under DIR (a data\n"
                    "root, default ./demo), segments it from scratch and prints where the\n"
                    "crops and the EcoTaxa archive are.");
  opts.declare(parser);
  parser.option("out", &out, "DIR", "data root to write (default demo)");
  parser.option("frames", &frames, "N", "frames (default 12)", 1, 10000);
  parser.option("width", &width, "W", "frame width in px (default 2028)", 64, 16384);
  parser.option("height", &height, "H", "frame height in px (default 1520)", 64, 16384);
  parser.option("objects", &objects, "K", "mean objects per frame (default 15)", 0, 100000);
  parser.option("workers", &workers, "N", "segment workers (default: cores - 1)", 1, 256);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;

  segment_request req;
  if (!load_run_settings(opts, workers, req.settings, req.sources))
    return exit_usage;

  synth_options so;
  so.out = out;
  so.frames = int(frames);
  so.width = int(width);
  so.height = int(height);
  so.objects = int(objects);
  so.seed = 1;
  if (auto err = validate(so); !err.empty()) {
    std::cerr << "error: " << err << "\n";
    return exit_usage;
  }
  synth_result made;
  try {
    made = generate_acquisition(so);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_failed;
  }
  std::cout << "demo acquisition: " << made.acquisition_dir.string() << " ("
            << made.frames.size() << " frames, " << made.total_objects
            << " objects drawn)\n";
  req.folders.push_back(made.acquisition_dir.string());
  req.force = true;
  std::vector<job_summary> results;
  int rc = segment_folders(req, &results);
  for (auto& r : results) {
    std::cout << "\ncrops:   " << r.objects_dir << "\n";
    if (!r.zip.empty())
      std::cout << "ecotaxa: " << r.zip << "\n";
  }
  return rc;
}

} // namespace seg::cli
