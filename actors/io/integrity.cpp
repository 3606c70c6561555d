#include "actors/io/integrity.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <system_error>

#include "actors/io/acquisition.hpp"
#include "actors/io/io_error.hpp"

namespace fs = std::filesystem;

namespace seg::io {

std::vector<std::string> integrity_frames(const fs::path& dir) {
  auto file = dir / integrity_file_name;
  std::error_code ec;
  if (!fs::exists(file, ec))
    return {};
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw io_error(file, std::string("cannot open: ") + std::strerror(errno));
  std::vector<std::string> frames;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof())
      break; // no '\n' yet: the imager is still writing this line
    if (line.empty() || line.front() == '#')
      continue;
    // "<name>,<size>,<sha1>": the name may hold commas, the other two not.
    auto last = line.rfind(',');
    if (last == std::string::npos || last == 0)
      continue;
    auto mid = line.rfind(',', last - 1);
    if (mid == std::string::npos || mid == 0)
      continue;
    auto name = line.substr(0, mid);
    std::uintmax_t size = 0;
    auto [end, err] = std::from_chars(line.data() + mid + 1, line.data() + last, size);
    if (err != std::errc{} || end != line.data() + last)
      continue;
    if (!is_frame_name(name) || name.find('/') != std::string::npos)
      continue;
    auto path = dir / name;
    if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) != size || ec)
      continue;
    frames.push_back(std::move(name));
  }
  std::sort(frames.begin(), frames.end());
  frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
  return frames;
}

} // namespace seg::io
