#pragma once

// HOST:PORT of `segflow serve --listen` and `segflow ctl --connect`.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>

namespace seg::cli {

/// The port serve listens on and ctl connects to when none is given.
inline constexpr std::uint16_t default_serve_port = 4750;

/// A host and a TCP port.
struct endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = default_serve_port;

  /// "host:port".
  std::string text() const {
    return host + ":" + std::to_string(port);
  }
};

/// Parses "HOST:PORT", "HOST" (default port) or ":PORT" (default host);
/// port 0..65535 (0 = any free port, for listening). nullopt if malformed.
inline std::optional<endpoint> parse_endpoint(const std::string& text) {
  endpoint e;
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    if (text.empty())
      return std::nullopt;
    e.host = text;
    return e;
  }
  if (colon > 0)
    e.host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size()
      || value > 65535)
    return std::nullopt;
  e.port = static_cast<std::uint16_t>(value);
  return e;
}

} // namespace seg::cli
