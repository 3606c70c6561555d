#include "actors/io/iso_time.hpp"

#include <cstdio>
#include <ctime>

namespace seg::io {

namespace {

// "YYYY-MM-DDTHH:MM:SS" of `count` units of 1/`per_second` s since the
// epoch; `fraction` gets the units past the second (always >= 0).
std::string date_time(std::int64_t count, std::int64_t per_second, std::int64_t& fraction) {
  auto secs = count / per_second;
  fraction = count % per_second;
  if (fraction < 0) {
    fraction += per_second;
    --secs;
  }
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string digits(std::int64_t value, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(value));
  return buf;
}

} // namespace

std::string utc_isoformat(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  std::int64_t us = 0;
  auto text = date_time(duration_cast<microseconds>(t.time_since_epoch()).count(), 1'000'000,
                        us);
  return us == 0 ? text : text + "." + digits(us, 6);
}

std::string utc_isoformat_now() {
  return utc_isoformat(std::chrono::system_clock::now());
}

std::string utc_iso_ms(std::int64_t unix_ms) {
  std::int64_t ms = 0;
  auto text = date_time(unix_ms, 1000, ms);
  return text + "." + digits(ms, 3) + "Z";
}

std::optional<std::int64_t> parse_utc_iso_ms(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed)
        != 6
      || consumed != 19)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t millis = 0;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    int digits = 0;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits)
      if (digits < 3)
        millis = millis * 10 + (s[pos] - '0');
    for (; digits < 3; ++digits)
      millis *= 10;
  }
  if (s.substr(pos) != "Z")
    return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

std::string utc_iso_seconds_now() {
  std::int64_t unused = 0;
  return date_time(std::time(nullptr), 1, unused) + "Z";
}

} // namespace seg::io
