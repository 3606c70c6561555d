// `segflow bench` report: medians over the repeats as JSON, and the same
// numbers as Markdown tables.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "tools/segflow/bench.hpp"

namespace seg::cli::bench {

namespace {

using ojson = nlohmann::ordered_json;

// Stage keys of stage_totals reported per frame, with their table headings.
const std::vector<std::pair<const char*, const char*>> frame_stages = {
  {"read_ms", "read"},
  {"decode_ms", "decode"},
  {"correct_ms", "correct"},
  {"mask_ms", "mask"},
  {"label_features_ms", "label+features"},
  {"crops_ms", "crops"},
  {"commit_ms", "commit"},
  {"worker_wait_ms", "worker wait"},
  {"exporter_wait_ms", "exporter wait"},
};

// Stage keys of stage_totals for tiled frames, per frame, with their table
// headings (the table is printed only when some run tiled frames).
const std::vector<std::pair<const char*, const char*>> tile_stages = {
  {"tile_read_ms", "read into shm"},
  {"tile_segment_ms", "segment tiles"},
  {"stitch_ms", "stitch"},
  {"stitch_wait_ms", "stitcher wait"},
  {"held_back_ms", "workers held back"},
};

// The worker's own steps, whose sum is the compute cost of a frame.
const char* const compute_stages[] = {"decode_ms", "correct_ms", "mask_ms",
                                      "label_features_ms", "crops_ms"};

double max_of(const std::vector<double>& xs) {
  return xs.empty() ? 0 : *std::max_element(xs.begin(), xs.end());
}

ojson run_json(const std::vector<pipeline_sample>& ps, const std::vector<decode_sample>& ds,
               const reference_result& ref) {
  ojson j;
  std::vector<double> fps, ops, fps_excl, flat, cpu_pct, rss, cpu, wall, job, floor_mem,
    floor_read, floor_cpu, pct_floor, pct_floor_read, pct_floor_excl;
  std::vector<std::string> errors;
  std::map<std::string, std::vector<double>> stage_per_frame;
  std::vector<double> export_ms, frames, objects, sys_pct, faults, footprint, shm;
  std::vector<double> tiles, pixel_work;
  std::map<std::string, std::vector<double>> tile_stage_per_frame;
  for (std::size_t r = 0; r < ps.size(); ++r) {
    const auto& p = ps[r];
    if (!p.error.empty()) {
      errors.push_back(p.error);
      continue;
    }
    double f = p.job_s > 0 ? p.frames / p.job_s : 0;
    double f_excl = 0;
    fps.push_back(f);
    ops.push_back(p.job_s > 0 ? p.objects / p.job_s : 0);
    if (p.flat_ms >= 0) {
      flat.push_back(p.flat_ms);
      double rest = p.job_s - p.flat_ms / 1000.0;
      if (rest > 0) {
        f_excl = p.frames / rest;
        fps_excl.push_back(f_excl);
      }
    }
    cpu.push_back(p.cpu_s);
    wall.push_back(p.process_wall_s);
    job.push_back(p.job_s);
    cpu_pct.push_back(p.process_wall_s > 0 ? 100.0 * p.cpu_s / p.process_wall_s : 0);
    sys_pct.push_back(p.process_wall_s > 0 ? 100.0 * p.system_s / p.process_wall_s : 0);
    faults.push_back(double(p.minor_faults) / std::max(1u, p.frames));
    rss.push_back(p.peak_rss_mb);
    footprint.push_back(p.peak_footprint_mb);
    shm.push_back(p.peak_shm_mb);
    frames.push_back(p.frames);
    objects.push_back(p.objects);
    for (auto& [key, ms] : p.stages_ms)
      stage_per_frame[key].push_back(ms / std::max(1u, p.frames));
    export_ms.push_back(p.stages_ms.count("export_ms") ? p.stages_ms.at("export_ms") : 0);
    auto stage = [&](const char* key) {
      auto it = p.stages_ms.find(key);
      return it == p.stages_ms.end() ? 0.0 : it->second;
    };
    tiles.push_back(stage("tiles") / std::max(1u, p.frames));
    pixel_work.push_back(stage("tiled_frame_pixels") > 0
                           ? stage("tile_pixels") / stage("tiled_frame_pixels")
                           : 0);
    for (auto& [key, heading] : tile_stages) {
      (void)heading;
      tile_stage_per_frame[key].push_back(stage(key) / std::max(1u, p.frames));
    }
    // Pipeline and floor of the same repeat ran side by side: their ratio is
    // less sensitive to the machine's other load than either number.
    if (r < ds.size() && ds[r].in_memory_fps > 0) {
      pct_floor.push_back(100.0 * f / ds[r].in_memory_fps);
      pct_floor_read.push_back(100.0 * f / ds[r].with_read_fps);
      if (f_excl > 0)
        pct_floor_excl.push_back(100.0 * f_excl / ds[r].in_memory_fps);
    }
  }
  for (auto& d : ds) {
    floor_mem.push_back(d.in_memory_fps);
    floor_read.push_back(d.with_read_fps);
    floor_cpu.push_back(d.in_memory_cpu_percent);
  }
  j["workers"] = ps.empty() ? 0 : ps.front().workers;
  j["runs_ok"] = fps.size();
  j["frames"] = median(frames);
  j["objects"] = median(objects);
  j["objects_per_frame"] = median(frames) > 0 ? median(objects) / median(frames) : 0;
  j["frames_per_second"] = median(fps);
  j["objects_per_second"] = median(ops);
  j["frames_per_second_excl_flat"] = median(fps_excl);
  j["flat_ms"] = flat.empty() ? ojson() : ojson(median(flat));
  j["job_s"] = median(job);
  j["process_wall_s"] = median(wall);
  j["cpu_s"] = median(cpu);
  j["cpu_percent"] = median(cpu_pct);
  j["system_cpu_percent"] = median(sys_pct);
  j["minor_faults_per_frame"] = median(faults);
  j["peak_rss_mb"] = max_of(rss);
  j["peak_footprint_mb"] = max_of(footprint);
  j["peak_shm_mb"] = max_of(shm);
  j["decode_floor_fps"] = median(floor_mem);
  j["decode_floor_with_read_fps"] = median(floor_read);
  j["decode_floor_cpu_percent"] = median(floor_cpu);
  j["percent_of_decode_floor"] = median(pct_floor);
  j["percent_of_decode_floor_with_read"] = median(pct_floor_read);
  j["percent_of_decode_floor_excl_flat"] = median(pct_floor_excl);
  if (ref.frames_per_second > 0 && !fps.empty()) {
    j["ratio_vs_reference"] = median(fps) / ref.frames_per_second;
    j["reference_source"] = ref.source;
  } else {
    j["ratio_vs_reference"] = nullptr;
    j["reference_source"] = "none";
  }
  auto& st = j["stage_ms_per_frame"];
  for (auto& [key, heading] : frame_stages) {
    (void)heading;
    st[key] = median(stage_per_frame[key]);
  }
  double compute = 0;
  for (auto* key : compute_stages)
    compute += median(stage_per_frame[key]);
  st["compute_ms"] = compute;
  j["export_ms"] = median(export_ms);
  auto& tj = j["tiles"];
  tj["tiles_per_frame"] = median(tiles);
  tj["pixel_work"] = median(pixel_work);
  for (auto& [key, heading] : tile_stages) {
    (void)heading;
    tj[std::string(key) + "_per_frame"] = median(tile_stage_per_frame[key]);
  }
  auto& s = j["samples"];
  s["frames_per_second"] = fps;
  s["decode_floor_fps"] = floor_mem;
  s["decode_floor_with_read_fps"] = floor_read;
  s["peak_rss_mb"] = rss;
  s["peak_footprint_mb"] = footprint;
  s["cpu_percent"] = cpu_pct;
  s["flat_ms"] = flat;
  j["errors"] = errors;
  return j;
}

std::string fmt(double x, int digits) {
  if (!std::isfinite(x))
    return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string fmt(const ojson& x, int digits) {
  return x.is_number() ? fmt(x.get<double>(), digits) : "–";
}

std::string join_row(const std::vector<std::string>& cells) {
  std::string s = "|";
  for (auto& c : cells)
    s += " " + c + " |";
  return s + "\n";
}

std::string rule(std::size_t n) {
  std::string s = "|";
  for (std::size_t i = 0; i < n; ++i)
    s += "---|";
  return s + "\n";
}

std::string frame_label(const ojson& a) {
  return std::to_string(a["width"].get<int>()) + "×" + std::to_string(a["height"].get<int>())
         + " (" + fmt(a["megapixels"], 1) + " MP)";
}

} // namespace

ojson report_json(const run_context& ctx, const std::vector<acquisition_result>& results) {
  ojson out;
  out["segflow_version"] = ctx.version;
  out["started_utc"] = ctx.started_utc;
  out["host"] = {{"cpu_model", ctx.cpu_model},
                 {"cores", ctx.cores},
                 {"load_average_before", ctx.load_before},
                 {"load_average_after", ctx.load_after}};
  out["repeat"] = ctx.repeat;
  out["workers_max"] = ctx.workers_max;
  out["segment_options"] = ctx.extra;
  out["method"] = {
    {"pipeline", "child process `segflow segment -q --force --status-json --summary-json` "
                 "per run; frames/s = frames / job seconds (flat and export included); "
                 "peak RSS (ru_maxrss) and CPU from wait4(); footprint = RssAnon + RssFile "
                 "sampled every 10 ms plus the child's /dev/shm/segflow-<pid>-* segments"},
    {"decode_floor", "w threads in the bench process decoding with the pipeline's decoder "
                     "(kernels::decode_frame; libjpeg-turbo for JPEGs), the same frames, >= 1 s"},
    {"aggregation", "median over the repeats (peak RSS: maximum); % of floor is the "
                    "median of per-repeat ratios of runs made side by side"}};
  out["bench_process_peak_rss_mb"] = ctx.bench_peak_rss_mb;
  auto& list = out["acquisitions"] = ojson::array();
  for (auto& res : results) {
    ojson a;
    a["name"] = res.acq.name;
    a["path"] = res.acq.dir.string();
    a["frames"] = res.acq.frames.size();
    a["width"] = res.acq.width;
    a["height"] = res.acq.height;
    a["megapixels"] = double(res.acq.width) * res.acq.height / 1e6;
    a["mean_frame_bytes"] = res.acq.mean_frame_bytes;
    const auto& ref = res.reference;
    ojson rj;
    rj["source"] = ref.source;
    rj["note"] = ref.note;
    if (ref.source != "none") {
      rj["frames_per_second"] = ref.frames_per_second;
      rj["wall_s"] = ref.wall_s;
      rj["flat_s"] = ref.flat_s;
      rj["frames"] = ref.frames;
      rj["objects"] = ref.objects;
      if (ref.source == "measured") {
        rj["peak_rss_mb"] = ref.peak_rss_mb;
        rj["cpu_s"] = ref.cpu_s;
        rj["samples_fps"] = ref.samples_fps;
      }
    }
    auto& runs = a["runs"] = ojson::array();
    for (std::size_t w = 0; w < res.pipeline.size(); ++w)
      runs.push_back(run_json(res.pipeline[w],
                              w < res.decode.size() ? res.decode[w]
                                                    : std::vector<decode_sample>{},
                              ref));
    a["reference"] = rj;
    if (!res.stops.empty()) {
      std::vector<double> ms;
      for (auto& s : res.stops)
        ms.push_back(s.latency_ms);
      a["stop_latency"] = {{"workers", res.stop_workers},
                           {"trials", ms.size()},
                           {"median_ms", median(ms)},
                           {"max_ms", max_of(ms)},
                           {"samples_ms", ms}};
    } else {
      a["stop_latency"] = nullptr;
    }
    list.push_back(std::move(a));
  }
  return out;
}

std::string report_markdown(const ojson& report) {
  std::ostringstream md;
  md << "segflow " << report["segflow_version"].get<std::string>() << " on "
     << report["host"]["cpu_model"].get<std::string>() << " ("
     << report["host"]["cores"].get<unsigned>() << " cores); load average "
     << report["host"]["load_average_before"].get<std::string>() << " before, "
     << report["host"]["load_average_after"].get<std::string>() << " after. Medians of "
     << report["repeat"].get<int>() << " repeats (peak RSS: maximum).\n\n";

  md << "Throughput (frames/s = frames / job time, flat and export included; decode floor "
        "= the same frames decoded by the same number of threads, from memory / "
        "including the file read; footprint = sampled RSS plus the run's shared-memory "
        "segments, which ru_maxrss misses once unmapped):\n\n";
  std::vector<std::string> head = {"acquisition", "frame", "frames", "objects/frame",
                                   "workers", "frames/s", "objects/s",
                                   "frames/s excl. flat", "decode floor frames/s",
                                   "% of floor (excl. flat)", "flat ms", "peak RSS (footprint) MB",
                                   "CPU % (system)", "page faults/frame", "× reference"};
  md << join_row(head) << rule(head.size());
  for (auto& a : report["acquisitions"]) {
    for (auto& r : a["runs"]) {
      std::string ratio = "–";
      if (r["ratio_vs_reference"].is_number())
        ratio = fmt(r["ratio_vs_reference"], 1) + "×"
                + (r["reference_source"] == "recorded" ? " (recorded ref.)" : "");
      md << join_row({a["name"].get<std::string>(), frame_label(a),
                      std::to_string(a["frames"].get<int>()), fmt(r["objects_per_frame"], 1),
                      std::to_string(r["workers"].get<int>()), fmt(r["frames_per_second"], 2),
                      fmt(r["objects_per_second"], 1),
                      fmt(r["frames_per_second_excl_flat"], 2),
                      fmt(r["decode_floor_fps"], 1) + " / "
                        + fmt(r["decode_floor_with_read_fps"], 1),
                      fmt(r["percent_of_decode_floor"], 0) + " % ("
                        + fmt(r["percent_of_decode_floor_excl_flat"], 0) + " %)",
                      fmt(r["flat_ms"], 0),
                      fmt(r["peak_rss_mb"], 0) + " (" + fmt(r["peak_footprint_mb"], 0) + ")",
                      fmt(r["cpu_percent"], 0) + " (" + fmt(r["system_cpu_percent"], 0) + ")",
                      fmt(r["minor_faults_per_frame"], 0), ratio});
    }
  }

  md << "\nWhere the time goes (ms per frame, summed over the workers; compute = decode + "
        "correct + mask + label+features + crops; export once per job):\n\n";
  head = {"acquisition", "workers"};
  for (auto& [key, heading] : frame_stages) {
    (void)key;
    head.push_back(heading);
  }
  head.push_back("compute");
  head.push_back("export ms");
  md << join_row(head) << rule(head.size());
  for (auto& a : report["acquisitions"]) {
    for (auto& r : a["runs"]) {
      std::vector<std::string> row = {a["name"].get<std::string>(),
                                      std::to_string(r["workers"].get<int>())};
      for (auto& [key, heading] : frame_stages) {
        (void)heading;
        row.push_back(fmt(r["stage_ms_per_frame"][key], 1));
      }
      row.push_back(fmt(r["stage_ms_per_frame"]["compute_ms"], 1));
      row.push_back(fmt(r["export_ms"], 0));
      md << join_row(row);
    }
  }

  bool tiled = false;
  for (auto& a : report["acquisitions"])
    for (auto& r : a["runs"])
      tiled = tiled || (r["tiles"]["tiles_per_frame"].is_number()
                        && r["tiles"]["tiles_per_frame"].get<double>() > 0);
  if (tiled) {
    md << "\nTiled frames (ms per frame, summed over the workers; pixel work = the "
          "tiles' pixels, halos included, over the frames'):\n\n";
    head = {"acquisition", "workers", "tiles/frame", "pixel work"};
    for (auto& [key, heading] : tile_stages) {
      (void)key;
      head.push_back(heading);
    }
    md << join_row(head) << rule(head.size());
    for (auto& a : report["acquisitions"]) {
      for (auto& r : a["runs"]) {
        const auto& t = r["tiles"];
        std::vector<std::string> row = {a["name"].get<std::string>(),
                                        std::to_string(r["workers"].get<int>()),
                                        fmt(t["tiles_per_frame"], 1),
                                        fmt(t["pixel_work"], 3) + "×"};
        for (auto& [key, heading] : tile_stages) {
          (void)heading;
          row.push_back(fmt(t[std::string(key) + "_per_frame"], 1));
        }
        md << join_row(row);
      }
    }
  }

  md << "\n";
  for (auto& a : report["acquisitions"]) {
    const auto& ref = a["reference"];
    md << "- " << a["name"].get<std::string>() << ": reference ";
    if (ref["source"] == "none")
      md << "not available (" << ref["note"].get<std::string>() << ")";
    else
      md << fmt(ref["frames_per_second"], 3) << " frames/s, " << fmt(ref["wall_s"], 2)
         << " s for " << ref["frames"].get<int>() << " frames, " << ref["objects"].get<int>()
         << " objects, flat " << fmt(ref["flat_s"], 2) << " s — "
         << ref["note"].get<std::string>();
    md << ".\n";
    if (a["stop_latency"].is_object()) {
      const auto& s = a["stop_latency"];
      md << "- " << a["name"].get<std::string>() << ": stop latency (SIGINT at a random "
         << "moment to process exit, " << s["workers"].get<int>() << " workers, "
         << s["trials"].get<int>() << " trials): median " << fmt(s["median_ms"], 0)
         << " ms, max " << fmt(s["max_ms"], 0) << " ms.\n";
    }
    for (auto& r : a["runs"])
      for (auto& e : r["errors"])
        md << "- " << a["name"].get<std::string>() << ", " << r["workers"].get<int>()
           << " workers: FAILED RUN: " << e.get<std::string>() << "\n";
  }
  md << "- bench process (decode floor) peak RSS: "
     << fmt(report["bench_process_peak_rss_mb"], 0) << " MB.\n";
  return md.str();
}

} // namespace seg::cli::bench
