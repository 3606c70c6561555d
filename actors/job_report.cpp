#include "actors/job_report.hpp"

#include <chrono>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/io/acquisition.hpp"
#include "actors/io/report/report.hpp"
#include "actors/io/report/run_record.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/io/output_layout.hpp"

namespace seg {

namespace {

io::report::run_record record_of(const config::settings& st, const job_summary& s,
                                 double um_per_px) {
  io::report::run_record r;
  r.segflow_version = SEGFLOW_VERSION;
  r.state = to_string(job_state(s.state));
  r.finished = io::utc_isoformat_now();
  r.seconds = s.seconds;
  r.profile = config::to_string(st.run_profile);
  r.settings_digest = io::report::settings_digest(config::to_toml(st));
  r.um_per_px = um_per_px;
  r.flat_recalculate = st.segmentation.flat_recalculate;
  r.frames_total = s.frames_total;
  r.frames_done = s.frames_done;
  r.frames_resumed = s.frames_resumed;
  r.frames_failed = s.frames_failed;
  r.objects = s.objects;
  r.error = s.error;
  r.failures = s.failures;
  auto& t = s.stages;
  r.stages_ms = {{"read", t.read_ms},
                 {"decode", t.decode_ms},
                 {"correct", t.correct_ms},
                 {"mask", t.mask_ms},
                 {"label_features", t.label_features_ms},
                 {"crops", t.crops_ms},
                 {"commit", t.commit_ms},
                 {"export", t.export_ms},
                 {"flat", t.flat_ms},
                 {"worker_wait", t.worker_wait_ms},
                 {"exporter_wait", t.exporter_wait_ms}};
  return r;
}

} // namespace

void report_job_end(const config::sources& base, const job_spec& spec,
                    const job_summary& summary) {
  auto t0 = std::chrono::steady_clock::now();
  try {
    auto st = job_settings(spec, base);
    auto acq = io::open_acquisition(summary.path.empty() ? spec.path : summary.path);
    double um_per_px = 0;
    if (st.segmentation.size_units == config::units::micrometres)
      um_per_px = io::parse_process_pixel(io::read_metadata(acq.dir / "metadata.json"))
                    .um_per_px.value_or(0);
    io::output_layout layout(acq);
    io::make_owned_dirs(layout.data_root(), layout.objects_dir() / ".segflow");
    io::report::write_run_record(layout.objects_dir(), record_of(st, summary, um_per_px));
    if (!st.exports.report)
      return;
    io::report::run_assumptions assumed; // the run record just written says it all
    auto file = io::report::write_acquisition_report(acq.dir, assumed);
    io::report::write_report_index(acq.data_root);
    spdlog::info("report_written job={} file={} ms={:.1f}", spec.id, file.string(),
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now()
                                                           - t0)
                   .count());
  } catch (const std::exception& e) {
    spdlog::warn("report_failed job={} path={} error=\"{}\"", spec.id, summary.path,
                 e.what());
  }
}

} // namespace seg
