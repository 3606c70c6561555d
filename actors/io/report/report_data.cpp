#include "actors/io/report/report_data.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/frame_record.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/python_format.hpp"
#include "actors/io/report/thumbnail.hpp"
#include "kernels/flat_field.hpp"

namespace fs = std::filesystem;

namespace seg::io::report {

namespace {

std::string text_of(const nlohmann::ordered_json& meta, const char* key) {
  auto it = meta.find(key);
  if (it == meta.end() || it->is_null())
    return {};
  return python_str_json(*it);
}

std::optional<double> positive_number(const nlohmann::ordered_json& meta, const char* key) {
  auto it = meta.find(key);
  if (it == meta.end())
    return std::nullopt;
  double v = 0;
  if (it->is_number() && !it->is_boolean()) {
    v = it->get<double>();
  } else if (it->is_string()) {
    try {
      std::size_t used = 0;
      auto s = it->get<std::string>();
      v = std::stod(s, &used);
      if (s.find_first_not_of(" \t", used) != std::string::npos)
        return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  return std::isfinite(v) && v > 0 ? std::optional<double>(v) : std::nullopt;
}

void read_identity(acquisition_report& r, const nlohmann::ordered_json& meta) {
  r.sample_project = text_of(meta, "sample_project");
  r.sample_id = text_of(meta, "sample_id");
  r.acq_id = text_of(meta, "acq_id");
  r.instrument = text_of(meta, "acq_instrument");
  if (auto id = text_of(meta, "acq_instrument_id"); !id.empty())
    r.instrument += (r.instrument.empty() ? "" : " (") + id + (r.instrument.empty() ? "" : ")");
  r.date = text_of(meta, "acq_local_datetime");
  if (r.date.empty())
    r.date = text_of(meta, "object_date") + " " + text_of(meta, "object_time");
  r.process_pixel = text_of(meta, "process_pixel");
  r.imaged_ml = positive_number(meta, "acq_imaged_volume");
}

// An error names its frame's path first: the table has the frame already.
std::string without_path(const std::string& reason, const std::string& frame) {
  auto at = reason.find("/" + frame + ": ");
  return at == std::string::npos ? reason : reason.substr(at + frame.size() + 3);
}

// Frames with a record are done; of the others, those with an error
// artifact failed (an artifact left by an earlier run of a frame committed
// since does not count).
void read_frames(acquisition_report& r, const std::vector<std::string>& names) {
  output_layout layout(r.data_root, r.rel);
  for (std::uint32_t i = 0; i < names.size(); ++i) {
    report_frame f;
    f.name = names[i];
    std::error_code ec;
    auto record_file = layout.record_file(names[i]);
    auto error_file = layout.error_file(names[i]);
    if (fs::exists(record_file, ec)) {
      try {
        auto rec = read_frame_record(record_file);
        f.state = report_frame::outcome::done;
        f.objects = long(rec.objects.size());
        for (auto& o : rec.objects) {
          auto features = o.features;
          if (r.um_per_px > 0)
            kernels::scale_to_micrometres(features, r.um_per_px);
          report_object obj;
          obj.crop = o.crop_file;
          obj.id = frame_stem(o.crop_file);
          obj.frame = i;
          obj.esd = features.equivalent_diameter;
          r.objects.push_back(std::move(obj));
        }
      } catch (const std::exception& e) {
        r.problems.push_back(e.what());
      }
    } else if (fs::exists(error_file, ec)) {
      f.state = report_frame::outcome::failed;
      try {
        auto j = nlohmann::json::parse(read_file(error_file));
        f.reason = without_path(j.value("error", std::string("(no reason recorded)")),
                                f.name);
      } catch (const std::exception& e) {
        f.reason = "(unreadable error artifact)";
        r.problems.push_back(error_file.string() + ": " + e.what());
      }
    }
    r.frames_done += f.state == report_frame::outcome::done ? 1 : 0;
    r.frames_failed += f.state == report_frame::outcome::failed ? 1 : 0;
    r.frames.push_back(std::move(f));
  }
}

// The reference's recalculation heuristic replayed over the committed
// frames in order, as the exporter evaluates it (failed frames do not feed
// it): where it fires, the next frame starts a new flat.
void mark_recalculations(acquisition_report& r) {
  kernels::flat_recalc_heuristic h;
  auto n = r.frames.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto& f = r.frames[i];
    if (f.state == report_frame::outcome::not_done)
      break; // the exporter settles frames in order: nothing past a gap
    if (f.state != report_frame::outcome::done)
      continue;
    if (h.after_frame(i, std::size_t(f.objects)) && i + 1 < n
        && !kernels::recalc_flat_indices(i + 1, n).empty())
      r.frames[i + 1].new_flat = true;
  }
}

std::string state_of(const acquisition_report& r) {
  if (r.run)
    return run_state_text(*r.run);
  std::error_code ec;
  if (fs::exists(r.acquisition_dir / "done.txt", ec))
    return "done";
  return r.frames_done + r.frames_failed > 0 ? "partial" : "not segmented";
}

} // namespace

std::string acquisition_report::unit() const {
  return um_per_px > 0 ? "\xC2\xB5m" : "px";
}

acquisition_report load_acquisition_report(const fs::path& acq_dir,
                                           const run_assumptions& assumed) {
  auto acq = open_acquisition(acq_dir);
  acquisition_report r;
  r.acquisition_dir = acq.dir;
  r.data_root = acq.data_root;
  r.rel = acq.rel;
  r.objects_dir = output_layout(acq).objects_dir();
  auto meta = read_metadata(acq.dir / "metadata.json");
  read_identity(r, meta);
  r.run = read_run_record(r.objects_dir);
  bool recalc = assumed.flat_recalculate;
  if (r.run) {
    r.profile = r.run->profile;
    r.um_per_px = r.run->um_per_px;
    recalc = r.run->flat_recalculate;
  } else {
    r.profile = assumed.profile;
    if (assumed.micrometres)
      r.um_per_px = parse_process_pixel(meta).um_per_px.value_or(0);
  }
  read_frames(r, acq.frames);
  if (recalc)
    mark_recalculations(r);
  r.state = state_of(r);
  std::error_code ec;
  if (fs::is_regular_file(flat_thumbnail_file(r.objects_dir), ec)) {
    auto text = read_file(flat_thumbnail_file(r.objects_dir));
    r.flat_jpeg.assign(text.begin(), text.end());
  }
  try {
    auto tsv = ecotaxa_tsv_name(r.acq_id);
    if (fs::is_regular_file(r.objects_dir / tsv, ec))
      r.tsv_name = tsv;
  } catch (const std::exception&) {
    // nop: an acq_id no file can be named after has no TSV either
  }
  return r;
}

} // namespace seg::io::report
