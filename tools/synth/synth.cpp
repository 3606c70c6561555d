// The acquisition writer of the synthetic generator: options checked, file
// order and names, frames and faulty files, integrity.check, metadata.json
// last, and the ground truth. The pieces: prng, illumination, particles,
// crops, composition (frames) and metadata (what is written beside them).
#include "tools/synth/synth.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "kernels/jpeg_encode.hpp"
#include "tools/synth/crops.hpp"
#include "tools/synth/metadata.hpp"
#include "tools/synth/prng.hpp"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace seg {

using namespace detail;

// -- validation and naming ----------------------------------------------------

std::string validate(const synth_options& o) {
  if (o.out.empty())
    return "--out is required (the data root to write into)";
  if (o.frames < 1 || o.frames > 100000)
    return "--frames must be in [1, 100000], got " + std::to_string(o.frames);
  if (o.width < 64 || o.width > 16384)
    return "--width must be in [64, 16384], got " + std::to_string(o.width);
  if (o.height < 64 || o.height > 16384)
    return "--height must be in [64, 16384], got " + std::to_string(o.height);
  if (o.objects < 0 || o.objects > 10000)
    return "--objects must be in [0, 10000], got " + std::to_string(o.objects);
  if (o.stuck < 0 || o.stuck > 100)
    return "--stuck must be in [0, 100], got " + std::to_string(o.stuck);
  if (o.dense_count < 0 || o.dense_first < 0 || o.dense_objects < 0 || o.dense_objects > 10000)
    return "--dense FIRST:COUNT:K needs FIRST >= 0, COUNT >= 0 and K in [0, 10000]";
  if (o.seam_grids.size() > 8)
    return "--seam-grid takes at most 8 grids, got " + std::to_string(o.seam_grids.size());
  for (const auto& g : o.seam_grids) {
    const std::string grid = std::to_string(g.width) + "x" + std::to_string(g.height);
    if (g.width < 64 || g.height < 64)
      return "--seam-grid " + grid + ": tiles must be at least 64x64";
    if (g.width >= o.width && g.height >= o.height)
      return "--seam-grid " + grid + " does not cut a " + std::to_string(o.width) + "x"
             + std::to_string(o.height) + " frame (no seam)";
  }
  if (!o.crops.empty()) {
    std::error_code ec;
    if (!fs::is_directory(o.crops, ec))
      return "--crops " + o.crops.string() + " is not a folder";
    if (list_jpegs(o.crops).empty())
      return "--crops " + o.crops.string() + " holds no *.jpg file";
  }
  return {};
}

std::string synth_acq_id(const synth_options& o) {
  std::string id = "synth-" + std::to_string(o.seed) + "-" + std::to_string(o.frames) + "f-"
                   + std::to_string(o.width) + "x" + std::to_string(o.height) + "-k"
                   + std::to_string(o.objects);
  if (!o.crops.empty())
    id += "-crops";
  if (o.bad)
    id += "-bad";
  if (o.stuck > 0)
    id += "-s" + std::to_string(o.stuck);
  if (o.dense_count > 0)
    id += "-d" + std::to_string(o.dense_first) + "+" + std::to_string(o.dense_count) + "k"
          + std::to_string(o.dense_objects);
  for (std::size_t i = 0; i < o.seam_grids.size(); ++i)
    id += (i == 0 ? "-g" : "+") + std::to_string(o.seam_grids[i].width) + "x"
          + std::to_string(o.seam_grids[i].height);
  return id;
}

namespace {

constexpr int jpeg_quality = 93;         // what the imager and compose.py use
constexpr int bad_after = 10;            // faulty files sort after this many good frames

// Baseline, not optimised: the bytes cv::imencode writes at this quality.
std::vector<uchar> encode_jpeg(const cv::Mat& img) {
  return kernels::encode_jpeg(img, jpeg_quality);
}

// End of the SOS header (first entropy-coded byte), or 0 if not found.
std::size_t scan_start(const std::vector<uchar>& jpg) {
  std::size_t i = 2;
  while (i + 4 <= jpg.size() && jpg[i] == 0xFF) {
    const std::size_t len = std::size_t{jpg[i + 2]} << 8 | jpg[i + 3];
    if (jpg[i + 1] == 0xDA)
      return i + 2 + len;
    i += 2 + len;
  }
  return 0;
}

bool has_jpegs(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && !list_jpegs(dir).empty();
}

// One file of the acquisition in sorted (= time) order.
struct entry {
  std::string name;
  int good = -1; // good frame index, or -1
  int fault = -1; // fault index, or -1
};

} // namespace

// -- acquisition --------------------------------------------------------------

synth_result generate_acquisition(const synth_options& o) {
  if (auto err = validate(o); !err.empty())
    throw std::invalid_argument(err);

  // Start time: 2025-06-01 + (seed mod 200) days, 08:00-17:59, then ~2 s
  // (± 0.25 s) per file, microseconds varying.
  prng tr(derive(o.seed, tag_time));
  std::int64_t t_us = (days_from_civil(2025, 6, 1) + static_cast<std::int64_t>(o.seed % 200))
                        * 86400 * 1000000;
  t_us += (8 * 3600 + tr.integer(0, 599) * 60) * std::int64_t{1000000} + tr.integer(0, 999999);
  const stamp start = to_stamp(t_us);

  // File order: good frames, the faults interleaved after the first 10.
  static const char* const faults[] = {"truncated_jpeg", "zero_byte", "not_a_jpeg",
                                       "one_by_one", "different_size"};
  constexpr int n_faults = 5;
  std::vector<entry> files;
  const int first = o.bad ? std::min(bad_after, o.frames) : o.frames;
  for (int i = 0; i < first; ++i)
    files.push_back({"", i, -1});
  if (o.bad) {
    int next_good = first;
    for (int j = 0; j < n_faults; ++j) {
      files.push_back({"", -1, j});
      if (next_good < o.frames)
        files.push_back({"", next_good++, -1});
    }
    while (next_good < o.frames)
      files.push_back({"", next_good++, -1});
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i > 0)
      t_us += 2000000 + tr.integer(-250000, 250000);
    files[i].name = frame_name(to_stamp(t_us));
  }

  const std::string sample_id = "synth-" + std::to_string(o.seed);
  const std::string acq_id = synth_acq_id(o);
  char date[16];
  std::snprintf(date, sizeof date, "%04d%02d%02d", start.year, start.month, start.day);
  const fs::path rel = fs::path("img") / date / sample_id / acq_id;
  const fs::path acq = o.out / rel;
  const fs::path gt_path = o.out / "ground_truth.json";
  const json options = options_json(o);

  if (has_jpegs(acq)) {
    bool same = false;
    std::ifstream f(gt_path);
    if (f) {
      json old = json::parse(f, nullptr, false);
      same = !old.is_discarded() && old.is_object() && old.value("options", json()) == options
             && old.value("acquisition_dir", std::string()) == rel.generic_string();
    }
    if (!same)
      throw synth_conflict(acq.string() + " already holds frames that "
                           + gt_path.string()
                           + " does not describe with the same options; remove it or "
                             "choose another --out");
  }
  std::error_code ec;
  fs::create_directories(acq, ec);
  if (ec)
    throw std::runtime_error("cannot create " + acq.string() + ": " + ec.message());

  synth_result res;
  res.acquisition_dir = acq;
  res.ground_truth = gt_path;
  res.truth.resize(static_cast<std::size_t>(o.frames));

  synth_generator gen(o);
  std::string integrity;
  json bad = json::array();
  json frames_json = json::array();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& e = files[i];
    const fs::path path = acq / e.name;
    if (e.good >= 0) {
      auto& ft = res.truth[static_cast<std::size_t>(e.good)];
      const auto data = encode_jpeg(gen.frame(e.good, &ft));
      io::write_file_atomic(path, data.data(), data.size());
      integrity += integrity_line(e.name, data);
      res.frames.push_back(path);
      res.total_objects += static_cast<int>(ft.objects.size());
      json j;
      j["file"] = e.name;
      j["sorted_index"] = i;
      j["index"] = ft.index;
      j["gain"] = ft.gain;
      j["drawn"] = ft.drawn;
      j["dropped"] = ft.dropped;
      if (!o.seam_grids.empty())
        j["seam_dropped"] = ft.seam_dropped;
      j["objects"] = objects_json(ft.objects);
      frames_json.push_back(std::move(j));
      continue;
    }
    prng br(derive(o.seed, tag_bad, static_cast<std::uint64_t>(e.fault)));
    json j;
    j["file"] = e.name;
    j["sorted_index"] = i;
    j["fault"] = faults[e.fault];
    std::vector<uchar> data;
    std::vector<uchar> recorded; // what integrity.check records (the intact file)
    switch (e.fault) {
      case 0: { // an extra good frame, cut after its headers
        synth_frame_truth ft;
        recorded = encode_jpeg(gen.frame(o.frames, &ft));
        std::size_t cut = recorded.size() * 55 / 100;
        cut = std::clamp(cut, scan_start(recorded) + 16, recorded.size() - 2);
        data.assign(recorded.begin(), recorded.begin() + static_cast<std::ptrdiff_t>(cut));
        j["detail"] = "frame " + std::to_string(o.frames) + " cut to "
                      + std::to_string(data.size()) + " of " + std::to_string(recorded.size())
                      + " bytes (headers intact, no EOI); integrity.check records the "
                        "intact file";
        j["width"] = o.width;
        j["height"] = o.height;
        j["objects"] = objects_json(ft.objects);
        break;
      }
      case 1:
        j["detail"] = "empty file";
        break;
      case 2: {
        const std::string text = "This is not a JPEG file: segflow synth fault injection.\n";
        data.assign(text.begin(), text.end());
        for (int k = 0; k < 4096; ++k)
          data.push_back(static_cast<uchar>(br.next() >> 56));
        j["detail"] = "text + 4096 random bytes, named .jpg";
        break;
      }
      case 3:
        data = encode_jpeg(cv::Mat3b(1, 1, cv::Vec3b(200, 200, 200)));
        j["detail"] = "valid 1x1 JPEG, BGR (200, 200, 200)";
        j["width"] = 1;
        j["height"] = 1;
        break;
      default: {
        synth_options half = o;
        half.width = o.width / 2;
        half.height = o.height / 2;
        half.objects = std::max(1, o.objects / 4);
        half.seed = derive(o.seed, tag_half_size);
        synth_frame_truth ft;
        data = encode_jpeg(synth_generator(half).frame(0, &ft));
        j["detail"] = "valid frame of a different size: " + std::to_string(half.width) + "x"
                      + std::to_string(half.height) + " (own illumination and objects)";
        j["width"] = half.width;
        j["height"] = half.height;
        j["objects"] = objects_json(ft.objects);
        break;
      }
    }
    if (recorded.empty())
      recorded = data;
    io::write_file_atomic(path, data.data(), data.size());
    integrity += integrity_line(e.name, recorded);
    res.bad_files.push_back(path);
    j["size_bytes"] = data.size();
    bad.push_back(std::move(j));
  }

  // metadata.json last: only then is the folder an acquisition (§1.4 of the
  // spec: folders without metadata.json are skipped).
  const std::string meta
    = make_metadata(o, sample_id, acq_id, start, static_cast<int>(files.size())).dump(4);
  const std::vector<uchar> meta_bytes(meta.begin(), meta.end());
  io::write_file_atomic(acq / "integrity.check",
               "# planktoscope integrity file, see https://www.planktoscope.org\n"
               "# filename,size,sha1\n"
                 + integrity_line("metadata.json", meta_bytes) + integrity);
  io::write_file_atomic(acq / "metadata.json", meta);

  json gt;
  gt["generator"] = "segflow synth";
  gt["format_version"] = 1;
  gt["options"] = options;
  gt["acquisition_dir"] = rel.generic_string();
  gt["width"] = o.width;
  gt["height"] = o.height;
  gt["seed"] = o.seed;
  gt["object_count"] = "Poisson(options.objects) drawn per frame; drawn particles that find "
                       "no free place are dropped";
  gt["noise_sigma"] = noise_sigma;
  gt["flicker_sigma"] = flicker_sigma;
  gt["jpeg_quality"] = jpeg_quality;
  gt["illumination"] = illumination_json(gen.illumination(), gen.luminance());
  gt["notes"] = "frame = illumination * gain * prod(particle transmission) "
                "+ N(0, noise_sigma^2), rounded, clipped to [1, 255], BGR JPEG. Rectangles "
                "are [x, y, w, h] in frame px. Object pixels: inside the shape (synthetic) or "
                "grey < 0.9 * 245 (crops), holes excluded. bbox/area: object pixels inside "
                "the frame; full_bbox/full_area: including those outside. opacity: mean "
                "1 - transmission over the object pixels. paste_rect (crops): the pasted "
                "crop. Objects are kept a few px apart. sorted_index: position among the "
                "folder's .jpg files in name (= time) order. drawn: Poisson draw; dropped: "
                "drawn objects that found no free place.";
  if (!o.seam_grids.empty())
    gt["seam_notes"] = "seam: the object was placed on a seam of one of options.seam_grids "
                       "(tile cores of grid[0] x grid[1] px from the frame's top-left "
                       "corner); case: corner, seam_v, seam_h, three_tiles, hole_on_seam, "
                       "hole_on_corner, border (a seam at the frame edge) or near_seam "
                       "(within 12 px of a seam, not across it); tiles: tile cores holding "
                       "its visible pixels; hole_bbox: the hole's pixels. seam_dropped: "
                       "seam objects that found no free place.";
  gt["total_objects"] = res.total_objects;
  gt["frames"] = std::move(frames_json);
  gt["bad"] = std::move(bad);
  io::write_file_atomic(gt_path, gt.dump(1) + "\n");
  return res;
}

} // namespace seg
