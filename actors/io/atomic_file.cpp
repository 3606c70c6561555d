#include "actors/io/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/io/io_error.hpp"
#include "shm/process.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

std::atomic<std::uint64_t> temp_counter{0};

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r: thread-safe, returns the message (maybe not in buf).
  return ::strerror_r(err, buf, sizeof buf);
}

// Closes on scope exit unless released; close errors are reported by the
// explicit close path, this is only the error-path cleanup.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

void write_all(int fd, const char* data, std::size_t size, const fs::path& target,
               const fs::path& temp) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw io_error(target, "write failed (temporary file " + temp.filename().string()
                               + "): " + errno_text(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void fsync_directory(const fs::path& dir, const fs::path& target) {
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    throw io_error(target, "cannot open its directory for fsync: " + errno_text(errno));
  // Some file systems refuse fsync on directories (EINVAL); the rename is
  // still done, so only real I/O errors count.
  if (::fsync(dfd) != 0 && errno != EINVAL && errno != EROFS) {
    int err = errno;
    ::close(dfd);
    throw io_error(target, "fsync of its directory failed: " + errno_text(err));
  }
  ::close(dfd);
}

void fsync_file(const fs::path& file, const fs::path& target) {
  fd_guard g;
  g.fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (g.fd < 0)
    throw io_error(target, "cannot reopen temporary file " + file.filename().string()
                             + ": " + errno_text(errno));
  if (::fsync(g.fd) != 0)
    throw io_error(target, "fsync failed: " + errno_text(errno));
}

bool all_digits(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// Parses the owner pid of a temp name; 0 if not a temp name.
long temp_owner(std::string_view name) {
  if (name.size() < 2 || name[0] != '.')
    return 0;
  auto pos = name.rfind(".tmp-");
  if (pos == std::string_view::npos || pos == 0)
    return 0;
  auto rest = name.substr(pos + 5);
  auto dash = rest.find('-');
  if (dash == std::string_view::npos)
    return 0;
  auto pid = rest.substr(0, dash);
  auto counter = rest.substr(dash + 1);
  // libzip writes the archive to "<our temp name>.XXXXXX" first (mkstemp)
  // and renames it to our temp name when it closes; a crash leaves that.
  if (auto dot = counter.find('.'); dot != std::string_view::npos && counter.size() - dot == 7)
    counter = counter.substr(0, dot);
  if (!all_digits(pid) || !all_digits(counter) || pid.size() > 9)
    return 0;
  return std::stol(std::string(pid));
}

} // namespace

fs::path temp_path_for(const fs::path& target) {
  // NAME_MAX is 255 bytes; keep room for the suffix.
  std::string name = target.filename().string();
  if (name.size() > 200)
    name.resize(200);
  std::ostringstream os;
  os << '.' << name << ".tmp-" << ::getpid() << '-' << temp_counter.fetch_add(1);
  return target.parent_path() / os.str();
}

bool is_temp_name(std::string_view name) {
  return temp_owner(name) > 0;
}

void write_file_atomic(const fs::path& target, const void* data, std::size_t size) {
  if (target.filename().empty())
    throw io_error(target, "not a file name");
  const fs::path temp = temp_path_for(target);
  try {
    fd_guard g;
    g.fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (g.fd < 0)
      throw io_error(target, "cannot create temporary file " + temp.filename().string()
                               + ": " + errno_text(errno));
    write_all(g.fd, static_cast<const char*>(data), size, target, temp);
    if (::fsync(g.fd) != 0)
      throw io_error(target, "fsync failed: " + errno_text(errno));
    int fd = g.fd;
    g.fd = -1;
    // close() can report a deferred write error (NFS, quota).
    if (::close(fd) != 0)
      throw io_error(target, "close failed: " + errno_text(errno));
    if (::rename(temp.c_str(), target.c_str()) != 0)
      throw io_error(target, "cannot rename temporary file " + temp.filename().string()
                               + " over it: " + errno_text(errno));
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  fsync_directory(target.parent_path(), target);
}

void write_files_atomic(const fs::path& dir, const std::vector<named_bytes>& files) {
  staged_files batch;
  for (auto& f : files)
    batch.stage(dir, f.name, f.bytes->data(), f.bytes->size());
  batch.publish();
}

staged_files::~staged_files() {
  for (auto& e : staged_)
    if (!e.temp.empty())
      ::unlink(e.temp.c_str());
}

void staged_files::stage(const fs::path& dir, const std::string& name, const void* data,
                         std::size_t size) {
  auto target = dir / name;
  if (name.empty() || name.find('/') != std::string::npos)
    throw io_error(target, "not a plain file name");
  staged_.push_back({temp_path_for(target), target});
  auto& temp = staged_.back().temp;
  fd_guard g;
  g.fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (g.fd < 0) {
    int err = errno;
    temp.clear(); // not created: nothing to remove
    throw io_error(target, "cannot create temporary file: " + errno_text(err));
  }
  write_all(g.fd, static_cast<const char*>(data), size, target, temp);
  int fd = g.fd;
  g.fd = -1;
  if (::close(fd) != 0)
    throw io_error(target, "close failed: " + errno_text(errno));
}

void staged_files::publish() {
  if (staged_.empty())
    return;
  {
    // One flush of the file system makes every temporary file durable at
    // once, instead of one journal commit per file.
    const auto& dir = staged_.front().target.parent_path();
    fd_guard dir_guard;
    dir_guard.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_guard.fd < 0)
      throw io_error(dir, "cannot open folder: " + errno_text(errno));
    if (::syncfs(dir_guard.fd) != 0)
      throw io_error(dir, "syncfs failed: " + errno_text(errno));
  }
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    auto& e = staged_[i];
    if (::rename(e.temp.c_str(), e.target.c_str()) != 0)
      throw io_error(e.target, "cannot rename temporary file over it: " + errno_text(errno));
    e.temp.clear();
    auto dir = e.target.parent_path();
    // The folder's renames are durable before the next folder's begin.
    if (i + 1 == staged_.size() || staged_[i + 1].target.parent_path() != dir)
      fsync_directory(dir, e.target);
  }
  staged_.clear();
}

void write_file_atomic(const fs::path& target, std::string_view bytes) {
  write_file_atomic(target, bytes.data(), bytes.size());
}

void write_file_atomic(const fs::path& target, const std::vector<std::uint8_t>& bytes) {
  write_file_atomic(target, bytes.data(), bytes.size());
}

void commit_temp_file(const fs::path& temp, const fs::path& target) {
  try {
    fsync_file(temp, target);
    if (::rename(temp.c_str(), target.c_str()) != 0)
      throw io_error(target, "cannot rename temporary file " + temp.filename().string()
                               + " over it: " + errno_text(errno));
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  fsync_directory(target.parent_path(), target);
}

std::size_t remove_stale_temp_files(const fs::path& dir, bool include_live_owners) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return 0;
  fs::directory_iterator it(dir, ec);
  if (ec)
    throw io_error(dir, "cannot list: " + ec.message());
  std::vector<fs::path> stale;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec)
      throw io_error(dir, "cannot list: " + ec.message());
    const std::string name = it->path().filename().string();
    long pid = temp_owner(name);
    if (pid <= 0)
      continue;
    if (!it->is_regular_file(ec))
      continue;
    struct stat st {};
    bool alive = shm::process_alive(pid)
                 && !(::lstat(it->path().c_str(), &st) == 0
                      && shm::process_started_after(pid, st.st_mtim));
    if (alive && !include_live_owners)
      continue;
    stale.push_back(it->path());
  }
  if (ec)
    throw io_error(dir, "cannot list: " + ec.message());
  for (const auto& p : stale) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT)
      throw io_error(p, "cannot remove stale temporary file: " + errno_text(errno));
  }
  return stale.size();
}

std::string read_file(const fs::path& file) {
  fd_guard g;
  g.fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (g.fd < 0)
    throw io_error(file, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(g.fd, &st) != 0)
    throw io_error(file, "cannot stat: " + errno_text(errno));
  if (S_ISDIR(st.st_mode))
    throw io_error(file, "is a directory, not a file");
  std::string out;
  if (S_ISREG(st.st_mode))
    out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(g.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw io_error(file, "read failed: " + errno_text(errno));
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

namespace {

// Reads all of `fd` from offset 0 into `out`; returns errno or 0.
int read_all_at(int fd, std::string& out) {
  out.clear();
  char buf[4096];
  for (off_t off = 0;;) {
    auto n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (n == 0)
      return 0;
    out.append(buf, static_cast<std::size_t>(n));
    off += n;
  }
}

} // namespace

file_snapshot snapshot_file(int fd) {
  file_snapshot snap;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    snap.error = errno;
    return snap;
  }
  snap.ino = st.st_ino;
  snap.dev = st.st_dev;
  snap.mtime = st.st_mtim;
  snap.error = read_all_at(fd, snap.bytes);
  return snap;
}

file_snapshot snapshot_file(const fs::path& file) {
  fd_guard g;
  g.fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (g.fd < 0) {
    file_snapshot snap;
    snap.error = errno;
    return snap;
  }
  return snapshot_file(g.fd);
}

bool same_version(const file_snapshot& a, const file_snapshot& b) {
  return a.error == 0 && b.error == 0 && a.ino == b.ino && a.dev == b.dev
         && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec
         && a.bytes == b.bytes;
}

int write_all_at(int fd, std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

int create_exclusive(const fs::path& file, std::string_view bytes) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return errno;
  int err = write_all_at(fd, bytes);
  if (err == 0 && ::fsync(fd) != 0)
    err = errno;
  ::close(fd);
  if (err != 0)
    ::unlink(file.c_str());
  return err;
}

int rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return errno;
  // NFS has no RENAME_NOREPLACE but has link(), which fails on an existing name.
  if (::link(from.c_str(), to.c_str()) != 0)
    return errno;
  ::unlink(from.c_str());
  return 0;
}

} // namespace seg::io
