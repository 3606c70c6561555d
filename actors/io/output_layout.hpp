#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace seg {
struct job_plan;
}

namespace seg::io {
struct acquisition;
}

// Where every output of an acquisition goes (the reference layout,
// SPEC-planktoscope §4.6, plus segflow's per-frame records). Every output
// path is obtained from one output_layout rooted at the data root, so how a
// path is resolved (e.g. refusing symlinks on the way) is decided here alone.
namespace seg::io {

/// A frame name without its extension: "a.jpg" -> "a"; a name whose only dot
/// leads it (".jpg") or that has none stays whole. Records, error artifacts
/// and object names all start from it.
std::string frame_stem(std::string_view frame);

/// "ecotaxa_<acq_id>.zip" and "ecotaxa_<acq_id>.tsv" with acq_id through
/// safe_file_component (reference M naming, SPEC §4.6).
std::string ecotaxa_zip_name(std::string_view acq_id);
std::string ecotaxa_tsv_name(std::string_view acq_id);

/// The outputs of one acquisition <data_root>/img/<rel>.
class output_layout {
public:
  output_layout() = default;

  /// `acq_id` is the metadata's acq_id; only the EcoTaxa names need it.
  output_layout(std::filesystem::path data_root, std::filesystem::path rel,
                std::string acq_id = {});

  /// The layout of a resolved job.
  explicit output_layout(const job_plan& plan);

  /// The layout of an acquisition found on disk.
  explicit output_layout(const acquisition& acq, std::string acq_id = {});

  const std::filesystem::path& data_root() const {
    return data_root_;
  }

  /// The metadata's acq_id; empty if the layout was made without it.
  const std::string& acq_id() const {
    return acq_id_;
  }

  /// <root>/img/<rel>, the acquisition folder.
  std::filesystem::path acquisition_dir() const;

  /// <acquisition>/done.txt: the acquisition is segmented.
  std::filesystem::path done_file() const;

  /// <root>/objects/<rel>: crops and the TSV copy.
  std::filesystem::path objects_dir() const;

  /// <objects>/<crop_name>, a crop (see crop_name).
  std::filesystem::path crop_file(std::string_view crop_name) const;

  /// <objects>/.segflow/frames: per-frame records; a frame is committed iff
  /// its record exists.
  std::filesystem::path records_dir() const;

  /// <records>/<stem>.jsonl, the record of `frame`.
  std::filesystem::path record_file(std::string_view frame) const;

  /// <root>/errors/<rel>: error artifacts of failed frames.
  std::filesystem::path errors_dir() const;

  /// <errors>/<stem>.json, the error artifact of `frame`.
  std::filesystem::path error_file(std::string_view frame) const;

  /// <root>/export/ecotaxa, where the archives go.
  std::filesystem::path export_dir() const;

  /// "ecotaxa_<acq_id>.tsv". @throws io_error if acq_id is unsafe (see
  /// safe_file_component).
  std::string tsv_name() const;

  /// <objects>/ecotaxa_<acq_id>.tsv, the TSV copy beside the crops.
  std::filesystem::path tsv_file() const;

  /// <export>/ecotaxa_<acq_id>.zip, the EcoTaxa archive.
  std::filesystem::path zip_file() const;

private:
  std::filesystem::path data_root_;
  std::filesystem::path rel_;
  std::string acq_id_;
};

/// The object-name rule (export.ids): "<stem>_<index>" for per_frame,
/// "<sample_id>_<acq_id>_<stem>_<index>" otherwise (unique across
/// acquisitions, as the reference's object_id).
std::string object_name(const job_plan& plan, std::string_view frame, std::uint32_t index);

/// The crop file name of an object: object_name + ".jpg".
std::string crop_name(const job_plan& plan, std::string_view frame, std::uint32_t index);

/// Creates `dir` and every folder between `root` and it. Each of those below
/// `root` must be a real folder: one that is a symbolic link (or not a
/// folder) is refused, so nothing segflow writes can land outside the data
/// root (`root` itself may be a link: the user chose it).
/// @throws io_error naming the offending path; also if `dir` is not below `root`.
void make_owned_dirs(const std::filesystem::path& root, const std::filesystem::path& dir);

/// The check of make_owned_dirs without creating anything: the existing
/// folders between `root` and `dir` are real folders. @throws io_error.
void check_owned_dirs(const std::filesystem::path& root, const std::filesystem::path& dir);

/// Creates the folders a job writes into at its start (objects and records),
/// checked as make_owned_dirs does, and sweeps every folder of the layout of
/// stale temporary files (owner pid dead: a crash's leftovers).
/// @throws io_error.
void prepare_outputs(const output_layout& layout);

/// The sweep of prepare_outputs alone, creating nothing: for a job that is
/// skipped (done.txt present), whose run may have been killed while it
/// wrote its report after done.txt. @throws io_error.
void sweep_outputs(const output_layout& layout);

/// Removes every output of an earlier run, file by file, and only what
/// segflow wrote: the crops its frame records name, the records, the error
/// artifacts, the TSV, the archive, done.txt and segflow's temporary files;
/// then the folders this left empty. Never a tree, never through a link
/// (check_owned_dirs first): `force` starts over with nothing to mistake for
/// this run's. @throws io_error or std::filesystem::filesystem_error.
void remove_outputs(const output_layout& layout);

/// Marks the acquisition as segmented: writes done.txt atomically, its
/// content utc_isoformat(now) without a newline.
/// @throws io_error naming done.txt.
void write_done_marker(const output_layout& layout);

/// True if done.txt exists.
bool has_done_marker(const output_layout& layout);

} // namespace seg::io
