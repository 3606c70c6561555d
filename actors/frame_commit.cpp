#include "actors/frame_commit.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "actors/feature_vector.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/frame_record.hpp"
#include "actors/io/job_plan.hpp"

namespace fs = std::filesystem;

namespace seg {

namespace {

double ms_between(std::chrono::steady_clock::time_point a,
                  std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The record of a segmented frame, and its crops as files to write.
io::frame_record record_of(const job_plan& plan, const frame_result& r,
                           std::vector<io::named_bytes>& crops) {
  io::frame_record rec;
  rec.frame = r.name;
  rec.frame_index = int(r.index);
  for (auto& obj : r.objects) {
    io::frame_object fo;
    fo.index = int(obj.index);
    fo.features = from_vector(obj.features);
    fo.crop_file = io::crop_name(plan, r.name, obj.index);
    crops.push_back({fo.crop_file, &obj.crop_jpeg});
    rec.objects.push_back(std::move(fo));
  }
  return rec;
}

// Not committed (e.g. the disk is full): the crops go, to free the space;
// the frames are redone on resume.
void remove_crops(const io::output_layout& layout, const std::vector<io::named_bytes>& crops) {
  std::error_code ec;
  for (auto& c : crops)
    fs::remove(layout.crop_file(c.name), ec);
}

// A frame failed in an earlier run: its error artifact would count it as
// failed still.
void remove_error_artifact(const io::output_layout& layout, const frame_result& r) {
  std::error_code ec;
  fs::remove(layout.error_file(r.name), ec);
}

} // namespace

void commit_frame(const job_plan& plan, const io::output_layout& layout,
                  const frame_result& r) {
  std::vector<io::named_bytes> crops;
  auto rec = record_of(plan, r, crops);
  try {
    // Crops first: a record names only crops that are already on disk.
    io::write_files_atomic(layout.objects_dir(), crops);
    io::write_frame_record(layout.record_file(r.name), rec);
    remove_error_artifact(layout, r);
  } catch (...) {
    remove_crops(layout, crops);
    throw;
  }
}

void commit_frames(const job_plan& plan, const io::output_layout& layout,
                   const std::vector<frame_result>& group) {
  std::vector<std::vector<io::named_bytes>> crops(group.size());
  std::vector<io::frame_record> records;
  for (std::size_t i = 0; i < group.size(); ++i)
    records.push_back(record_of(plan, group[i], crops[i]));
  auto started = std::chrono::steady_clock::now();
  std::size_t batch_files = 0;
  try {
    io::staged_files batch;
    for (auto& frame : crops)
      for (auto& c : frame)
        batch.stage(layout.objects_dir(), c.name, c.bytes->data(), c.bytes->size());
    for (auto& rec : records) {
      auto file = layout.record_file(rec.frame);
      auto text = io::serialize_frame_record(rec);
      batch.stage(file.parent_path(), file.filename().string(), text.data(), text.size());
    }
    batch_files = batch.size();
    auto staged = std::chrono::steady_clock::now();
    batch.publish();
    for (auto& r : group)
      remove_error_artifact(layout, r);
    // Where a group's time goes: writing the files (creating them is most of
    // it on some file systems) against making them durable.
    spdlog::debug("commit_group frames={} files={} write_ms={:.2f} sync_ms={:.2f}",
                  group.size(), batch_files, ms_between(started, staged),
                  ms_between(staged, std::chrono::steady_clock::now()));
  } catch (...) {
    // The records renamed before the failure are committed frames: their
    // crops stay.
    std::error_code ec;
    for (std::size_t i = 0; i < group.size(); ++i)
      if (!fs::exists(layout.record_file(group[i].name), ec))
        remove_crops(layout, crops[i]);
    throw;
  }
}

} // namespace seg
