#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace seg::test {

/// A fresh directory under the system temp dir, removed with the object.
struct temp_dir {
  std::filesystem::path path;

  explicit temp_dir(const std::string& prefix = "segflow-test") {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path()
           / (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path);
    // Canonical, so tests may compare it with paths segflow canonicalises.
    path = std::filesystem::canonical(path);
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

} // namespace seg::test
