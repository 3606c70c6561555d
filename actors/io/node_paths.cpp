#include "actors/io/node_paths.hpp"

#include <filesystem>

#include "actors/io/frame_file.hpp"

namespace seg::io {

namespace {

std::string normal_absolute(const std::string& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  auto text = (ec ? std::filesystem::path(p) : abs).lexically_normal().string();
  while (text.size() > 1 && text.back() == '/')
    text.pop_back();
  return text;
}

} // namespace

node_paths::node_paths(const std::vector<std::string>& roots) {
  for (auto& r : roots)
    roots_.push_back(normal_absolute(r));
}

bool node_paths::covers(const std::string& path) const {
  auto p = std::filesystem::path(path).lexically_normal().string();
  for (auto& root : roots_) {
    if (root == "/")
      return !p.empty() && p.front() == '/';
    if (p.size() > root.size() && p.compare(0, root.size(), root) == 0 && p[root.size()] == '/')
      return true;
  }
  return false;
}

bool node_paths::claim(std::uint64_t job_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return claimed_.insert(job_id).second;
}

std::string compare_with_file(const std::string& path, const std::vector<std::uint8_t>& bytes,
                              std::uint64_t max_bytes) {
  std::vector<std::uint8_t> here;
  try {
    std::filesystem::path p(path);
    here = read_frame_file(p.parent_path(), p.filename().string(), max_bytes);
  } catch (const std::exception& e) {
    return e.what();
  }
  if (here.size() != bytes.size())
    return path + " is " + std::to_string(here.size()) + " bytes here, "
           + std::to_string(bytes.size()) + " on serve";
  if (here != bytes)
    return path + " differs from serve's copy";
  return {};
}

} // namespace seg::io
