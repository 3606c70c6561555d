#include "actors/io/job_plan.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/ecotaxa/ecotaxa_tsv.hpp"
#include "actors/io/ecotaxa/ecotaxa_validate.hpp"
#include "actors/io/integrity.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/python_format.hpp"
#include "kernels/flat_field.hpp"

namespace seg {

config::settings job_settings(const job_spec& spec, const config::sources& base) {
  auto src = base;
  for (auto& o : spec.overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos)
      throw std::runtime_error("job setting '" + o + "' is not key=value");
    src.overrides.emplace_back(o.substr(0, eq), o.substr(eq + 1));
  }
  return config::load(src);
}

namespace {

// Refuses metadata that would make the EcoTaxa archive fail to import
// (column names, value lengths, too many columns, ids), before any frame is
// segmented: a TSV of one object is made from it exactly as the exporter
// will, and checked. The object is named after a frame of ordinary length
// (the PlanktoScope's form): a frame whose own name is too long fails alone
// when it is committed (io::frame_name_problem), not the job.
void check_ecotaxa_metadata(const job_plan& plan, const nlohmann::ordered_json& filtered,
                            const std::filesystem::path& meta_file) {
  io::process_fields process;
  process.datetime = io::utc_isoformat_now();
  process.uuid = "00000000-0000-4000-8000-000000000000";
  process.id = io::make_process_id(filtered, plan.process_id.empty() ? process.uuid
                                                                      : plan.process_id);
  process.remove_previous_mask = plan.params.remove_previous_mask;
  io::tsv_object obj;
  obj.name = io::object_name(plan, "2024-01-01_00-00-00-000000_0.jpg", 0);
  io::tsv_options opts;
  opts.scaled_units = plan.params.pixel_size_um > 0;
  auto tsv = io::make_ecotaxa_tsv(filtered, process, {obj}, opts);
  auto problems = io::validate_ecotaxa_tsv(
    io::output_layout(plan).tsv_name(), tsv,
    [](const std::string&) { return std::optional<std::string>("\xFF\xD8\xFF"); });
  if (problems.empty())
    return;
  std::string text;
  for (auto& p : problems)
    text += (text.empty() ? "" : "; ") + io::to_string(p);
  throw std::runtime_error(meta_file.string()
                           + ": the EcoTaxa archive would not import (fix metadata.json or "
                             "set export.ecotaxa = false): "
                           + text);
}

} // namespace

job_setup resolve_job(const job_spec& spec, const config::sources& base) {
  auto st = job_settings(spec, base);
  io::acquisition acq;
  if (st.pipeline.follow) {
    acq = io::locate_acquisition(spec.path);
    acq.frames = io::integrity_frames(acq.dir);
  } else {
    acq = io::open_acquisition(spec.path);
  }
  if (acq.frames.empty() && !st.pipeline.follow)
    throw std::runtime_error(acq.dir.string()
                             + ": no frames (files ending in " + io::frame_endings_text() + ")");
  auto meta_file = acq.dir / "metadata.json";
  auto meta = io::read_metadata(meta_file);
  auto filtered = io::filter_metadata(meta);

  job_setup setup;
  setup.flat_recalculate = st.segmentation.flat_recalculate;
  setup.follow = st.pipeline.follow;
  setup.follow_idle_s = st.pipeline.follow_idle_s;
  setup.flat_frames = st.segmentation.flat_frames;
  setup.tiling = st.tiling;
  auto& plan = setup.plan;
  plan.id = spec.id;
  plan.acquisition = acq.dir.string();
  plan.data_root = acq.data_root.string();
  plan.rel = acq.rel.string();
  plan.frames = acq.frames;
  for (auto i : kernels::initial_flat_indices(acq.frames.size(),
                                              std::size_t(st.segmentation.flat_frames)))
    plan.flat_frames.push_back(std::uint32_t(i));
  plan.metadata_json = filtered.dump();
  plan.sample_project = io::python_str_json(meta["sample_project"]);
  plan.sample_id = io::python_str_json(meta["sample_id"]);
  plan.acq_id = io::python_str_json(meta["acq_id"]);
  // Ids end up in file names: refuse what could escape the data root.
  io::safe_file_component(plan.acq_id, "acq_id in " + meta_file.string());
  io::safe_file_component(plan.sample_id, "sample_id in " + meta_file.string());
  plan.profile = config::to_string(st.run_profile);
  plan.object_ids = config::to_string(st.exports.ids);
  plan.process_id = st.exports.process_id;
  plan.ecotaxa = st.exports.ecotaxa;
  plan.force = spec.force;
  auto& p = plan.params;
  p.min_esd_px = st.segmentation.min_esd;
  p.pixel_size_um = 0;
  p.crop_margin = st.segmentation.crop_margin;
  p.jpeg_quality = st.segmentation.crop_jpeg_quality;
  p.remove_previous_mask = st.segmentation.remove_previous_mask;
  p.max_frame_pixels = st.pipeline.max_frame_pixels;
  if (st.segmentation.size_units == config::units::micrometres) {
    auto px = io::parse_process_pixel(meta);
    if (px.um_per_px) {
      p.pixel_size_um = *px.um_per_px;
      p.min_esd_px = st.segmentation.min_esd / *px.um_per_px;
    } else if (st.segmentation.require_process_pixel) {
      throw std::runtime_error(meta_file.string() + ": " + px.reason
                               + " (segmentation.require_process_pixel is set: sizes in "
                                 "µm need process_pixel > 0)");
    } else {
      plan.warnings.push_back(meta_file.string() + ": " + px.reason
                              + "; sizes are in pixels");
    }
  }
  if (plan.ecotaxa)
    check_ecotaxa_metadata(plan, filtered, meta_file);
  return setup;
}

} // namespace seg
