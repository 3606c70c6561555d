#include "actors/io/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

void sync_folder(const fs::path& target) {
  auto dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0 && ::fsync(d.fd) != 0 && errno != EINVAL && errno != EROFS)
    throw io_error(target, "fsync of its directory failed: " + errno_text(errno));
}

} // namespace

bool create_secret_file(const fs::path& target, std::string_view bytes) {
  auto temp = temp_path_for(target);
  {
    fd_guard f{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (f.fd < 0)
      throw io_error(target, "cannot create: " + errno_text(errno));
    // The umask cannot widen 0600, but an inherited ACL default could.
    bool ok = ::fchmod(f.fd, 0600) == 0;
    std::size_t done = 0;
    while (ok && done < bytes.size()) {
      auto n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      ok = n > 0;
      done += ok ? std::size_t(n) : 0;
    }
    ok = ok && ::fsync(f.fd) == 0;
    if (!ok) {
      auto err = errno;
      ::unlink(temp.c_str());
      throw io_error(target, "cannot write: " + errno_text(err));
    }
  }
  // link() never replaces: two starts racing keep the first file.
  bool created = ::link(temp.c_str(), target.c_str()) == 0;
  auto err = errno;
  ::unlink(temp.c_str());
  if (!created && err != EEXIST)
    throw io_error(target, "cannot create: " + errno_text(err));
  if (created)
    sync_folder(target);
  return created;
}

std::string read_secret_file(const fs::path& file, std::size_t max_size) {
  fd_guard f{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (f.fd < 0) {
    auto err = errno;
    if (err == ELOOP)
      throw io_error(file, "is a symbolic link; give the file itself");
    throw io_error(file, "cannot open: " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    throw io_error(file, "cannot stat: " + errno_text(errno));
  if (!S_ISREG(st.st_mode))
    throw io_error(file, "is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    throw io_error(file, std::string("mode ") + mode
                           + " lets others read or change it: chmod 600 " + file.string());
  }
  if (std::size_t(st.st_size) > max_size)
    throw io_error(file, "is larger than " + std::to_string(max_size) + " bytes");
  std::string out(std::size_t(st.st_size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    auto n = ::read(f.fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw io_error(file, "cannot read: " + errno_text(errno));
    if (n == 0)
      break;
    done += std::size_t(n);
  }
  out.resize(done);
  return out;
}

} // namespace seg::io
