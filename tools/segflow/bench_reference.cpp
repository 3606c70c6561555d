// The reference segmenter's speed for `segflow bench`: run from a checkout of
// the PlanktoScope repository (as REFERENCE.md describes: segment_list with
// MQTT replaced by an in-process recorder), or read from a recorded
// reference_timing.json.
#include <fstream>
#include <stdexcept>

#include "actors/io/atomic_file.hpp"
#include "tools/segflow/bench.hpp"
#include "tools/segflow/bench_process.hpp"

namespace fs = std::filesystem;

namespace seg::cli::bench {

namespace {

// The driver is carried by the executable, so the bench needs no file of the
// source tree at run time.
const char* const driver_py = R"PY(
"""Runs the PlanktoScope reference segmenter once on one acquisition and
writes its timing as JSON. Written by `segflow bench --reference-checkout`."""
import argparse
import json
import os
import resource
import sys
import threading
import time
import types

ap = argparse.ArgumentParser()
ap.add_argument("--checkout", required=True)
ap.add_argument("--data-root", required=True)
ap.add_argument("--acquisition", required=True)
ap.add_argument("--json", required=True)
a = ap.parse_args()

# The package is <checkout>/segmenter/planktoscope/segmenter (or the checkout
# is the segmenter folder itself).
base = None
for cand in (os.path.join(a.checkout, "segmenter"), a.checkout):
    if os.path.isfile(os.path.join(cand, "planktoscope", "segmenter", "__init__.py")):
        base = cand
        break
if base is None:
    sys.exit("no planktoscope/segmenter package under " + a.checkout)
sys.path.insert(0, base)

stubbed = []
try:
    import loguru  # noqa: F401
except ImportError:
    # loguru is only the reference's logging: a no-op stand-in.
    class _Logger:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

        def catch(self, *args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:
                return args[0]
            return lambda f: f

    mod = types.ModuleType("loguru")
    mod.logger = _Logger()
    sys.modules["loguru"] = mod
    stubbed.append("loguru")

# MQTT is replaced by an in-process recorder: the mqtt module is never needed.
mqtt = types.ModuleType("planktoscope.mqtt")


class MQTT_Client:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("MQTT is replaced by a recorder in this driver")


mqtt.MQTT_Client = MQTT_Client
sys.modules["planktoscope.mqtt"] = mqtt


class Recorder:
    def __init__(self):
        self.client = self
        self.events = []

    def publish(self, topic, payload=None, *args, **kwargs):
        self.events.append((time.monotonic(), topic, payload))


from planktoscope.segmenter import SegmenterProcess  # noqa: E402

seg = SegmenterProcess(threading.Event(), a.data_root)
rec = Recorder()
seg.segmenter_client = rec
# keep=0 (no debug images), process_id=1, process_min_ESD=20: REFERENCE.md.
seg._SegmenterProcess__save_debug_img = False
seg._SegmenterProcess__process_id = "1"
seg._SegmenterProcess__process_min_ESD = 20
seg._SegmenterProcess__remove_previous_mask = False

t0 = time.monotonic()
seg.segment_list([a.acquisition], force=True, ecotaxa_export=True)
wall = time.monotonic() - t0

statuses = []
flat_start = None
first_frame = None
objects = 0
for t, topic, payload in rec.events:
    if topic == "status/segmenter/object_id":
        objects += 1
    elif topic == "status/segmenter":
        try:
            status = json.loads(payload)["status"]
        except Exception:
            status = str(payload)
        statuses.append(status)
        if status == "Calculating flat" and flat_start is None:
            flat_start = t
        if status.startswith("Segmenting image") and first_frame is None:
            first_frame = t
images = sum(1 for s in statuses if s.startswith("Segmenting image"))
ru = resource.getrusage(resource.RUSAGE_SELF)
out = {
    "images": images,
    "objects": objects,
    "wall_seconds": wall,
    "flat_seconds": (first_frame - flat_start) if flat_start and first_frame else None,
    "images_per_second": images / wall if wall > 0 else 0,
    "final_status": statuses[-1] if statuses else None,
    "done_txt_written": os.path.exists(os.path.join(a.acquisition, "done.txt")),
    "peak_rss_kb": ru.ru_maxrss,
    "cpu_seconds": ru.ru_utime + ru.ru_stime,
    "stubbed_modules": stubbed,
}
with open(a.json, "w") as f:
    json.dump(out, f, indent=2)
)PY";

std::string tail_of(const fs::path& file) {
  std::string text;
  try {
    text = io::read_file(file);
  } catch (const std::exception&) {
    return {};
  }
  if (text.size() > 800)
    text = "..." + text.substr(text.size() - 800);
  return text;
}

} // namespace

bool python_has_reference_deps(const std::string& python) {
  try {
    auto e = run_process({python, "-c", "import cv2, skimage, pandas"}, "/dev/null",
                         "/dev/null");
    return e.signal == 0 && e.exit_code == 0;
  } catch (const std::exception&) {
    return false;
  }
}

reference_result run_reference(const std::string& python, const fs::path& checkout,
                               const acquisition_info& acq, const fs::path& work_dir) {
  reference_result r;
  r.source = "none";
  // A scratch data root: the reference writes objects/, clean/, export/ and
  // done.txt there, never beside the real acquisition.
  auto root = work_dir / "reference-root";
  fs::remove_all(root);
  auto dir = root / "img" / acq.rel;
  fs::create_directories(dir);
  for (auto& f : acq.frames)
    fs::create_symlink(f, dir / f.filename());
  fs::copy_file(acq.dir / "metadata.json", dir / "metadata.json");
  auto driver = work_dir / "reference_driver.py";
  io::write_file_atomic(driver, std::string_view(driver_py));
  auto json = work_dir / "reference.json";
  fs::remove(json);
  auto log = work_dir / "reference.log";
  auto e = run_process({python, driver.string(), "--checkout", checkout.string(),
                        "--data-root", root.string(), "--acquisition", dir.string(),
                        "--json", json.string()},
                       log, log);
  fs::remove_all(root);
  if (e.signal != 0 || e.exit_code != 0 || !fs::exists(json)) {
    r.note = "the reference run failed (" + describe(e) + "): " + tail_of(log);
    return r;
  }
  try {
    auto j = nlohmann::json::parse(io::read_file(json));
    r.frames = j.at("images").get<std::uint32_t>();
    r.objects = j.at("objects").get<std::uint32_t>();
    r.wall_s = j.at("wall_seconds").get<double>();
    r.flat_s = j.at("flat_seconds").is_number() ? j["flat_seconds"].get<double>() : 0;
    r.frames_per_second = r.wall_s > 0 ? r.frames / r.wall_s : 0;
    r.peak_rss_mb = e.peak_rss_kb / 1024.0;
    r.cpu_s = e.cpu_s;
    auto final_status = j.value("final_status", nlohmann::json()).is_string()
                          ? j["final_status"].get<std::string>()
                          : std::string("none");
    if (final_status != "Done" || r.frames != acq.frames.size()) {
      r.note = "the reference run ended with status \"" + final_status + "\" after "
               + std::to_string(r.frames) + " of " + std::to_string(acq.frames.size())
               + " frames";
      return r;
    }
    r.source = "measured";
    r.note = "measured in this run: " + checkout.string();
    if (!j["stubbed_modules"].empty())
      r.note += " (stand-ins for: " + j["stubbed_modules"].dump() + ")";
    r.samples_fps.push_back(r.frames_per_second);
  } catch (const std::exception& ex) {
    r.note = std::string("unreadable reference output: ") + ex.what();
  }
  return r;
}

reference_result recorded_reference(const fs::path& timing_file,
                                     const acquisition_info& acq) {
  reference_result r;
  r.source = "none";
  try {
    auto j = nlohmann::json::parse(io::read_file(timing_file));
    std::vector<std::string> names;
    std::uint32_t objects = 0;
    for (auto& img : j.at("per_image")) {
      names.push_back(img.at("image").get<std::string>());
      objects += img.value("objects", 0u);
    }
    std::vector<std::string> ours;
    for (auto& f : acq.frames)
      ours.push_back(f.filename().string());
    if (names != ours) {
      r.note = timing_file.string() + " is about other frames than " + acq.dir.string();
      return r;
    }
    r.frames = std::uint32_t(names.size());
    r.objects = j.value("total_objects", objects);
    r.wall_s = j.at("wall_seconds").get<double>();
    r.flat_s = j.value("flat_seconds", 0.0);
    r.frames_per_second = j.value("images_per_second", r.frames / r.wall_s);
    r.source = "recorded";
    r.note = "recorded on this machine type (" + timing_file.filename().string()
             + "), not measured in this run";
  } catch (const std::exception& e) {
    r.note = "unreadable reference timing " + timing_file.string() + ": " + e.what();
  }
  return r;
}

} // namespace seg::cli::bench
