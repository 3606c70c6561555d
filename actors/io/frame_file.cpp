#include "actors/io/frame_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/io/io_error.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

// True if `p` is `base` or lies below it (both canonical).
bool is_within(const fs::path& p, const fs::path& base) {
  auto b = base.begin();
  auto q = p.begin();
  for (; b != base.end(); ++b, ++q)
    if (q == p.end() || *q != *b)
      return false;
  return true;
}

} // namespace

void check_frame_name(const fs::path& dir, std::string_view name) {
  auto path = dir / std::string(name);
  if (name.empty())
    throw io_error(dir, "empty frame name");
  if (name.size() > 200)
    throw io_error(path, "frame name longer than 200 bytes");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\')
      throw io_error(path, "frame name contains a path separator");
    if (u < 0x20 || u == 0x7F)
      throw io_error(path, "frame name contains a control character");
  }
  if (name[0] == '.')
    throw io_error(path, "frame name starts with '.' (hidden or relative names are refused)");
}

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

std::string frame_size_problem(const std::string& path, cv::Size coded,
                               std::int64_t max_pixels) {
  if (std::int64_t(coded.width) * std::int64_t(coded.height) <= max_pixels)
    return {};
  return path + ": " + size_text(coded.width, coded.height)
         + " exceeds pipeline.max_frame_pixels (" + std::to_string(max_pixels) + ")";
}

std::uint64_t max_frame_file_bytes(std::int64_t max_pixels) {
  return std::uint64_t(std::max<std::int64_t>(max_pixels, 0)) * 4 + (16u << 20);
}

std::vector<std::uint8_t> read_frame_file(const fs::path& dir, std::string_view name,
                                          std::uint64_t max_bytes) {
  check_frame_name(dir, name);
  const auto path = dir / std::string(name);
  std::error_code ec;
  auto link = fs::symlink_status(path, ec);
  if (ec || !fs::exists(link))
    throw io_error(path, "does not exist" + (ec ? ": " + ec.message() : std::string{}));
  if (fs::is_symlink(link)) {
    auto target = fs::canonical(path, ec);
    if (ec)
      throw io_error(path, "symlink cannot be resolved: " + ec.message());
    auto base = fs::canonical(dir, ec);
    if (ec)
      throw io_error(dir, "cannot resolve the acquisition folder: " + ec.message());
    if (!is_within(target, base))
      throw io_error(path, "symlink points outside the acquisition (to " + target.string()
                             + "), refused");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw io_error(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw io_error(path, std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw io_error(path, "not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    throw io_error(path, "empty file (0 bytes)");
  }
  if (std::uint64_t(st.st_size) > max_bytes) {
    ::close(fd);
    throw io_error(path, "file of " + std::to_string(st.st_size)
                           + " bytes is larger than any frame within "
                             "pipeline.max_frame_pixels (" + std::to_string(max_bytes)
                           + " bytes), refused unread");
  }
  std::vector<std::uint8_t> bytes(std::size_t(st.st_size));
  std::size_t got = 0;
  while (got < bytes.size()) {
    auto n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      throw io_error(path, std::string("read error: ") + std::strerror(e));
    }
    if (n == 0)
      break; // shrank while being read: what was read is checked by the decoder
    got += std::size_t(n);
  }
  ::close(fd);
  bytes.resize(got);
  if (bytes.empty())
    throw io_error(path, "empty file (0 bytes)");
  return bytes;
}

} // namespace seg::io
