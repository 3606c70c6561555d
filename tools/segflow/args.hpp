#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace seg::cli {

/// Exit codes shared by every subcommand (DESIGN.md, command line).
enum exit_code : int {
  exit_ok = 0,          ///< everything done
  exit_failed = 1,      ///< some frame or job failed
  exit_usage = 2,       ///< usage or configuration error
  exit_interrupted = 3, ///< stopped by a signal or a stop request
};

/// A small declarative option parser: `--name VALUE`, `--name=VALUE`, flags,
/// repeated options and positionals, with generated `--help`.
class arg_parser {
public:
  arg_parser(std::string usage, std::string summary);

  /// A boolean switch (`--force`).
  void flag(const std::string& name, bool* out, const std::string& help);
  /// An option taking a string value.
  void option(const std::string& name, std::string* out, const std::string& metavar,
              const std::string& help);
  /// An option taking an integer value in [min, max].
  void option(const std::string& name, std::int64_t* out, const std::string& metavar,
              const std::string& help, std::int64_t min, std::int64_t max);
  /// An option that may repeat; every value is appended.
  void repeated(const std::string& name, std::vector<std::string>* out,
                const std::string& metavar, const std::string& help);
  /// A one-letter alias: `-c` means `--name`.
  void alias(char c, const std::string& name);

  /// Positional arguments (all of them).
  void positionals(std::vector<std::string>* out, const std::string& metavar,
                   std::size_t min_count);

  /// Parses argv[first..argc). Returns exit_ok on success, exit_usage after
  /// printing the problem and the usage to stderr, or -1 after printing the
  /// help to stdout for `--help`/`-h`.
  int parse(int argc, char** argv, int first = 1);

  /// The generated help text.
  std::string help() const;

private:
  struct spec {
    std::string name;
    std::string metavar; // empty for flags
    std::string help;
    std::function<std::string(const std::string&)> apply; // returns error text
  };
  std::string usage_;
  std::string summary_;
  std::vector<spec> specs_;
  std::vector<std::pair<char, std::string>> aliases_;
  std::vector<std::string>* positionals_ = nullptr;
  std::string positional_metavar_;
  std::size_t positional_min_ = 0;
};

} // namespace seg::cli
