#pragma once
// The fuzz targets whose parser reads a file (metadata.json, a trace) get
// each input through one memory file (memfd), named /proc/self/fd/N: no disk
// writes per execution, and the parser's real file path is exercised.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace seg::fuzz {

/// Replaces the memory file's contents with the input; returns its path.
inline std::string as_file(const std::uint8_t* data, std::size_t size) {
  static int fd = ::memfd_create("segflow-fuzz", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0)
    std::abort();
  std::size_t done = 0;
  while (done < size) {
    auto n = ::pwrite(fd, data + done, size - done, off_t(done));
    if (n <= 0)
      std::abort();
    done += std::size_t(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

} // namespace seg::fuzz
