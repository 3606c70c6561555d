#pragma once

#include <cstdint>
#include <string>

namespace seg {

/// A lease held on a key (an acquisition folder): who holds it, since when.
struct lease {
  std::string key;            ///< canonical acquisition path
  std::string token;          ///< random value; release must present it
  std::int64_t pid = 0;
  std::string host;
  std::int64_t since_unix_ms = 0;
  std::int64_t expires_unix_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease& x) {
  return f(x.key, x.token, x.pid, x.host, x.since_unix_ms, x.expires_unix_ms);
}

} // namespace seg
