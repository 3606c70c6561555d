#include "actors/io/serve_token.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "actors/io/io_error.hpp"
#include "actors/io/secret_file.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

constexpr std::size_t token_bytes = 32;
constexpr std::size_t token_chars = 2 * token_bytes;

bool is_token(std::string_view text) {
  if (text.size() != token_chars)
    return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace

std::string new_token() {
  std::array<unsigned char, token_bytes> raw{};
  std::size_t done = 0;
  while (done < raw.size()) {
    auto n = ::getrandom(raw.data() + done, raw.size() - done, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw std::runtime_error(std::string("cannot draw random bytes for the token: ")
                               + std::strerror(errno));
    done += std::size_t(n);
  }
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : raw) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string read_token(const fs::path& file) {
  auto text = read_secret_file(file, 4096);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  if (!is_token(text))
    throw io_error(file, "is not a segflow token (64 hex digits); it is made by segflow serve");
  return text;
}

std::string load_or_create_token(const fs::path& state_dir) {
  auto file = state_dir / token_file_name;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec)))
    create_secret_file(file, new_token() + "\n");
  return read_token(file);
}

bool token_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace seg::io
