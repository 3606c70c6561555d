#include "actors/io/iso_time.hpp"

#include <regex>

#include <catch2/catch.hpp>

TEST_CASE("utc_isoformat prints like Python's isoformat", "[io]") {
  using namespace std::chrono;
  // python3: datetime.utcfromtimestamp(1700000000.123456).isoformat()
  const system_clock::time_point t{seconds{1700000000}};
  CHECK(seg::io::utc_isoformat(t + microseconds{123456}) == "2023-11-14T22:13:20.123456");
  CHECK(seg::io::utc_isoformat(t) == "2023-11-14T22:13:20");
  CHECK(seg::io::utc_isoformat(t + microseconds{5}) == "2023-11-14T22:13:20.000005");
}

TEST_CASE("utc_iso_ms prints milliseconds and Z, and parses back", "[io]") {
  using seg::io::parse_utc_iso_ms;
  using seg::io::utc_iso_ms;
  CHECK(utc_iso_ms(1757609460618) == "2025-09-11T16:51:00.618Z");
  CHECK(utc_iso_ms(1757609460000) == "2025-09-11T16:51:00.000Z");
  CHECK(utc_iso_ms(-1) == "1969-12-31T23:59:59.999Z"); // rounded down
  for (std::int64_t ms : {std::int64_t(0), std::int64_t(1757609460618), std::int64_t(-1)})
    CHECK(parse_utc_iso_ms(utc_iso_ms(ms)) == ms);
  CHECK(parse_utc_iso_ms("2025-09-11T16:51:00Z") == 1757609460000);
  CHECK(parse_utc_iso_ms("2025-09-11T16:51:00.6Z") == 1757609460600);
  CHECK(parse_utc_iso_ms("2025-09-11T16:51:00.618999Z") == 1757609460618);
  CHECK_FALSE(parse_utc_iso_ms("2025-09-11T16:51:00.618"));
  CHECK_FALSE(parse_utc_iso_ms("2025-09-11 16:51:00Z"));
  CHECK_FALSE(parse_utc_iso_ms("yesterday"));
}

TEST_CASE("utc_iso_seconds_now prints whole seconds and Z", "[io]") {
  CHECK(std::regex_match(seg::io::utc_iso_seconds_now(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
}
