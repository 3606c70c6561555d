#include "actors/io/output_layout.hpp"

#include <system_error>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/iso_time.hpp"
#include "messages/job.hpp"

namespace fs = std::filesystem;

namespace seg::io {

std::string frame_stem(std::string_view frame) {
  auto dot = frame.rfind('.');
  return std::string(dot == std::string_view::npos || dot == 0 ? frame : frame.substr(0, dot));
}

std::string ecotaxa_zip_name(std::string_view acq_id) {
  return "ecotaxa_" + safe_file_component(acq_id, "acq_id") + ".zip";
}

std::string ecotaxa_tsv_name(std::string_view acq_id) {
  return "ecotaxa_" + safe_file_component(acq_id, "acq_id") + ".tsv";
}

output_layout::output_layout(fs::path data_root, fs::path rel, std::string acq_id)
  : data_root_(std::move(data_root)), rel_(std::move(rel)), acq_id_(std::move(acq_id)) {
  // nop
}

output_layout::output_layout(const job_plan& plan)
  : output_layout(plan.data_root, plan.rel, plan.acq_id) {
  // nop
}

output_layout::output_layout(const acquisition& acq, std::string acq_id)
  : output_layout(acq.data_root, acq.rel, std::move(acq_id)) {
  // nop
}

fs::path output_layout::acquisition_dir() const {
  return data_root_ / "img" / rel_;
}

fs::path output_layout::done_file() const {
  return acquisition_dir() / "done.txt";
}

fs::path output_layout::objects_dir() const {
  return data_root_ / "objects" / rel_;
}

fs::path output_layout::crop_file(std::string_view crop_name) const {
  return objects_dir() / crop_name;
}

fs::path output_layout::records_dir() const {
  return objects_dir() / ".segflow" / "frames";
}

fs::path output_layout::record_file(std::string_view frame) const {
  return records_dir() / (frame_stem(frame) + ".jsonl");
}

fs::path output_layout::errors_dir() const {
  return data_root_ / "errors" / rel_;
}

fs::path output_layout::error_file(std::string_view frame) const {
  return errors_dir() / (frame_stem(frame) + ".json");
}

fs::path output_layout::export_dir() const {
  return data_root_ / "export" / "ecotaxa";
}

std::string output_layout::tsv_name() const {
  return ecotaxa_tsv_name(acq_id_);
}

fs::path output_layout::tsv_file() const {
  return objects_dir() / tsv_name();
}

fs::path output_layout::zip_file() const {
  return export_dir() / ecotaxa_zip_name(acq_id_);
}

std::string object_name(const job_plan& plan, std::string_view frame, std::uint32_t index) {
  auto base = frame_stem(frame) + "_" + std::to_string(index);
  if (plan.object_ids == "per_frame")
    return base;
  return plan.sample_id + "_" + plan.acq_id + "_" + base;
}

std::string crop_name(const job_plan& plan, std::string_view frame, std::uint32_t index) {
  return object_name(plan, frame, index) + ".jpg";
}

void remove_outputs(const output_layout& layout) {
  fs::remove_all(layout.objects_dir());
  fs::remove_all(layout.errors_dir());
  fs::remove(layout.zip_file());
  fs::remove(layout.done_file());
}

void write_done_marker(const output_layout& layout) {
  write_file_atomic(layout.done_file(), utc_isoformat_now());
}

bool has_done_marker(const output_layout& layout) {
  std::error_code ec;
  return fs::exists(layout.done_file(), ec);
}

} // namespace seg::io
