#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// UTC times as text, in the forms segflow writes: Python's isoformat() where
// the reference's files want it, milliseconds with a Z in segflow's own
// files, whole seconds in reports.
namespace seg::io {

/// Python's datetime.isoformat() of `t` in UTC: "YYYY-MM-DDTHH:MM:SS.ffffff",
/// without the fraction when the microseconds are 0.
std::string utc_isoformat(std::chrono::system_clock::time_point t);

/// utc_isoformat(now), the reference's datetime.utcnow().isoformat().
std::string utc_isoformat_now();

/// "YYYY-MM-DDTHH:MM:SS.mmmZ" for a time in unix milliseconds (rounded
/// down, also before 1970).
std::string utc_iso_ms(std::int64_t unix_ms);

/// The unix milliseconds of what utc_iso_ms writes; the fraction may be
/// missing or have any number of digits (beyond 3 they are dropped).
/// Nothing if `text` is not of that form.
std::optional<std::int64_t> parse_utc_iso_ms(std::string_view text);

/// "YYYY-MM-DDTHH:MM:SSZ" of now, in whole seconds.
std::string utc_iso_seconds_now();

} // namespace seg::io
