#include "actors/io/output_layout.hpp"

#include <system_error>
#include <vector>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/frame_record.hpp"
#include "actors/io/io_error.hpp"
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

namespace {

// The components of `dir` below `root`. @throws io_error if there are none.
std::vector<fs::path> components_below(const fs::path& root, const fs::path& dir) {
  auto rel = dir.lexically_normal().lexically_relative(root.lexically_normal());
  if (rel.empty() || *rel.begin() == ".." || *rel.begin() == ".")
    throw io_error(dir, "is not a folder below the data root " + root.string());
  std::vector<fs::path> parts;
  for (auto& part : rel) {
    if (part == "..")
      throw io_error(dir, "is not a folder below the data root " + root.string());
    parts.push_back(part);
  }
  return parts;
}

// Walks from `root` down to `dir`, refusing links and non-folders; creates
// what is missing if `create`. Returns false if a folder is missing and
// `create` is not set (nothing below it exists).
bool walk_owned(const fs::path& root, const fs::path& dir, bool create) {
  fs::path at = root;
  for (auto& part : components_below(root, dir)) {
    at /= part;
    std::error_code ec;
    auto st = fs::symlink_status(at, ec);
    if (st.type() == fs::file_type::not_found) {
      if (!create)
        return false;
      if (!fs::create_directory(at, ec) && ec)
        throw io_error(at, "cannot create folder: " + ec.message());
      continue;
    }
    if (ec)
      throw io_error(at, "cannot inspect: " + ec.message());
    if (fs::is_symlink(st))
      throw io_error(at, "is a symbolic link: segflow writes only into real folders below "
                         "the data root, never through a link (replace it with a folder, "
                         "or give the link's target as the data root)");
    if (!fs::is_directory(st))
      throw io_error(at, "is not a folder (segflow needs one here for its outputs)");
  }
  return true;
}

// Removes `file` if it is there (a link is removed, never followed).
void remove_file(const fs::path& file) {
  std::error_code ec;
  fs::remove(file, ec);
  if (ec)
    throw io_error(file, "cannot remove: " + ec.message());
}

// Removes the files of `dir` (not below it) whose name ends with `suffix`.
void remove_files_ending(const fs::path& dir, std::string_view suffix) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.size() >= suffix.size()
        && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0
        && it->symlink_status(ec).type() == fs::file_type::regular)
      found.push_back(it->path());
  }
  for (auto& f : found)
    remove_file(f);
}

// A crop name from a record is a plain file name (a record never names a
// path; one that does was not written by segflow and is left alone).
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// Removes `dir` if it is empty; keeps it (and says nothing) otherwise.
void remove_if_empty(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(dir, ec)) && fs::is_empty(dir, ec) && !ec)
    fs::remove(dir, ec);
}

} // namespace

void make_owned_dirs(const fs::path& root, const fs::path& dir) {
  walk_owned(root, dir, /*create=*/true);
}

void check_owned_dirs(const fs::path& root, const fs::path& dir) {
  walk_owned(root, dir, /*create=*/false);
}

void prepare_outputs(const output_layout& layout) {
  make_owned_dirs(layout.data_root(), layout.records_dir());
  sweep_outputs(layout);
}

void sweep_outputs(const output_layout& layout) {
  // objects/ itself holds the report index of every acquisition.
  for (auto& dir : {layout.objects_dir(), layout.records_dir(), layout.objects_dir() / ".segflow",
                    layout.data_root() / "objects", layout.errors_dir(), layout.export_dir()})
    if (walk_owned(layout.data_root(), dir, /*create=*/false))
      remove_stale_temp_files(dir);
  remove_stale_temp_files(layout.acquisition_dir()); // done.txt's temporaries
}

void remove_outputs(const output_layout& layout) {
  const auto& root = layout.data_root();
  if (walk_owned(root, layout.records_dir(), /*create=*/false)) {
    std::error_code ec;
    std::vector<fs::path> records;
    for (fs::directory_iterator it(layout.records_dir(), ec), end; !ec && it != end;
         it.increment(ec))
      if (it->path().extension() == ".jsonl")
        records.push_back(it->path());
    for (auto& file : records) {
      try {
        for (auto& obj : read_frame_record(file).objects)
          if (is_plain_file_name(obj.crop_file))
            remove_file(layout.crop_file(obj.crop_file));
      } catch (const std::exception&) {
        // An unreadable or malformed record names no crop: only the record goes.
      }
      remove_file(file);
    }
    remove_stale_temp_files(layout.records_dir());
  }
  if (walk_owned(root, layout.objects_dir(), /*create=*/false)) {
    if (!layout.acq_id().empty())
      remove_file(layout.tsv_file());
    remove_stale_temp_files(layout.objects_dir());
  }
  if (walk_owned(root, layout.errors_dir(), /*create=*/false)) {
    remove_files_ending(layout.errors_dir(), ".json");
    remove_stale_temp_files(layout.errors_dir());
  }
  if (!layout.acq_id().empty() && walk_owned(root, layout.export_dir(), /*create=*/false))
    remove_file(layout.zip_file());
  remove_file(layout.done_file());
  remove_if_empty(layout.records_dir());
  remove_if_empty(layout.objects_dir() / ".segflow");
  remove_if_empty(layout.objects_dir());
  remove_if_empty(layout.errors_dir());
}

void write_done_marker(const output_layout& layout) {
  write_file_atomic(layout.done_file(), utc_isoformat_now());
}

bool has_done_marker(const output_layout& layout) {
  std::error_code ec;
  return fs::exists(layout.done_file(), ec);
}

} // namespace seg::io
