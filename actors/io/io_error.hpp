#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace seg::io {

/// A failure of the file layer. what() is "<file>: <problem>", so a message
/// shown to a user always says which file and what went wrong.
class io_error : public std::runtime_error {
public:
  /// @param file the file or folder concerned
  /// @param problem what went wrong, e.g. "cannot open: No such file or directory"
  io_error(const std::filesystem::path& file, const std::string& problem)
    : std::runtime_error(file.string() + ": " + problem), file_(file) {
    // nop
  }

  /// The file or folder the error is about.
  const std::filesystem::path& file() const noexcept {
    return file_;
  }

private:
  std::filesystem::path file_;
};

} // namespace seg::io
