#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <ctime>
#include <sys/types.h>

namespace seg::io {

/// Writes `bytes` to `target` so that a reader (or a crash) sees either the
/// old content or the complete new one: the bytes go to a unique temporary
/// file in the same directory (`.<name>.tmp-<pid>-<counter>`), which is
/// fsync'ed, renamed over `target`, and the directory is fsync'ed.
/// The directory must exist. New files get mode 0666 minus the umask.
/// @throws io_error naming `target` and the system error (e.g. "No space left
///         on device"); the temporary file is removed first.
void write_file_atomic(const std::filesystem::path& target, std::string_view bytes);

/// One file of a batch: its name in the folder and its content (not owned).
struct named_bytes {
  std::string name;
  const std::vector<std::uint8_t>* bytes = nullptr;
};

/// Writes several files into `dir` atomically each, with one file-system
/// flush for the whole batch: every file is written to a temporary name,
/// all are made durable together (syncfs), then renamed, then the folder is
/// synced. On error no temporary file is left; files already renamed stay.
/// Throws io_error naming the file.
void write_files_atomic(const std::filesystem::path& dir,
                        const std::vector<named_bytes>& files);

/// Files written to temporary names first and renamed into place together
/// later, in the order they were staged (write_files_atomic is one batch of
/// it): many files, in several folders of one file system, cost one syncfs
/// and one folder fsync per run of consecutive files in one folder — so the
/// files staged first are durable under their names before any later
/// folder's file is renamed (a frame's crops before its record).
/// Temporary files not published are removed when the batch is destroyed.
/// Every member throws io_error naming the file.
class staged_files {
public:
  staged_files() = default;
  staged_files(const staged_files&) = delete;
  staged_files& operator=(const staged_files&) = delete;
  ~staged_files();

  /// Writes `size` bytes at `data` to a temporary file for `dir`/`name`
  /// (not yet durable, not yet under its name). `dir` must exist.
  void stage(const std::filesystem::path& dir, const std::string& name, const void* data,
             std::size_t size);

  /// Makes every staged file durable (one syncfs), renames each over its
  /// target in stage order and fsyncs each folder after its run of renames.
  void publish();

  std::size_t size() const {
    return staged_.size();
  }

private:
  struct entry {
    std::filesystem::path temp;  ///< emptied once renamed
    std::filesystem::path target;
  };
  std::vector<entry> staged_;
};

/// Same, for binary data.
void write_file_atomic(const std::filesystem::path& target,
                       const std::vector<std::uint8_t>& bytes);

/// Same, for `size` bytes at `data`.
void write_file_atomic(const std::filesystem::path& target, const void* data,
                       std::size_t size);

/// Renames the finished file `temp` over `target` (same directory), then
/// fsyncs `temp` before and the directory after. For writers that build the
/// temporary file themselves (zip). `temp` is removed if anything fails.
/// @throws io_error naming `target`.
void commit_temp_file(const std::filesystem::path& temp,
                      const std::filesystem::path& target);

/// A fresh temporary name for `target`, in the same directory:
/// `.<name>.tmp-<pid>-<counter>` (the name part is shortened to stay within
/// file-name limits). Nothing is created.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

/// True if `name` (a file name, no directory) has the form temp_path_for makes.
bool is_temp_name(std::string_view name);

/// Removes the temporary files left in `dir` (not recursive) by writers that
/// died. A temporary file whose pid is a live process on this host is kept
/// unless `include_live_owners` is set — it may be a write in progress.
/// Pids of other hosts are unknown here: on a shared disk call this only while
/// holding the output directory's lease.
/// @return the number of files removed; a missing `dir` removes nothing.
/// @throws io_error if `dir` cannot be listed or a file cannot be removed.
std::size_t remove_stale_temp_files(const std::filesystem::path& dir,
                                    bool include_live_owners = false);

/// The whole content of `file`.
/// @throws io_error naming `file` if it cannot be opened or read.
std::string read_file(const std::filesystem::path& file);

// -- files shared with other processes (the lease files) ----------------------
// These report errno instead of throwing: for the lock manager a missing or
// changed file is an outcome to judge, not a failure.

/// A file as read at one moment, with what identifies that version of it.
struct file_snapshot {
  int error = 0;      ///< errno of open/read; ENOENT if there is no file
  std::string bytes;  ///< the whole content
  ino_t ino = 0;
  dev_t dev = 0;
  struct timespec mtime {};
};

/// Reads `file` whole (see file_snapshot).
file_snapshot snapshot_file(const std::filesystem::path& file);

/// Reads the open file `fd` whole, from offset 0.
file_snapshot snapshot_file(int fd);

/// True if both snapshots were read and are the same version of one file:
/// same inode, mtime and bytes.
bool same_version(const file_snapshot& a, const file_snapshot& b);

/// Writes `bytes` to `fd` from offset 0 (pwrite, EINTR retried); returns
/// errno or 0. The file is not truncated.
int write_all_at(int fd, std::string_view bytes);

/// Creates `file` only if it does not exist (O_EXCL), with `bytes`, fsync'ed;
/// returns errno or 0 (EEXIST if it exists). A file that could not be
/// written whole is removed.
int create_exclusive(const std::filesystem::path& file, std::string_view bytes);

/// Moves `from` to `to` unless `to` exists (RENAME_NOREPLACE, or link() and
/// unlink() where the file system lacks it, as NFS); returns errno or 0.
int rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

} // namespace seg::io
