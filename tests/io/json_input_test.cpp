// JSON inputs refused as clear errors, never crashes. Deeply nested JSON is
// refused before nlohmann's parser sees it: 200000 '[' in a metadata.json
// ended segflow with SIGSEGV (stack exhausted), and 20000 did under
// AddressSanitizer (tools/ci/sanitize.sh found it). A number too large for a
// double ("10E443", found by tests/fuzz/fuzz_metadata) is nlohmann's
// out_of_range, not its parse_error, and escaped the readers' catch.
#include "actors/io/json_depth.hpp"

#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/mqtt_protocol.hpp"
#include "actors/io/queue_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using Catch::Matchers::Contains;

std::string nested(std::size_t depth, const std::string& inner = "0") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

} // namespace

TEST_CASE("json_depth_within counts arrays and objects, not brackets in strings", "[json_depth]") {
  using seg::io::json_depth_within;
  CHECK(json_depth_within(nested(64)));
  CHECK_FALSE(json_depth_within(nested(65)));
  CHECK(json_depth_within("{\"a\":{\"b\":[1,{\"c\":[]}]}}", 5));
  CHECK_FALSE(json_depth_within("{\"a\":{\"b\":[1,{\"c\":[]}]}}", 4));
  // Brackets and escaped quotes inside strings are text.
  CHECK(json_depth_within("[\"" + std::string(100, '[') + "\\\"" + std::string(100, '{') + "\"]", 1));
  // Closers without openers never make room for more depth.
  CHECK_FALSE(json_depth_within("]]]]" + nested(65)));
}

TEST_CASE("a deeply nested metadata.json is an io_error naming the file", "[json_depth]") {
  seg::test::temp_dir dir;
  auto file = dir.path / "metadata.json";
  std::ofstream(file) << "{\"sample_project\":\"p\",\"sample_id\":\"s\",\"acq_id\":\"a\","
                         "\"acq_camera_resolution\":\"1x1\",\"acq_deep\":"
                      << nested(200000) << "}";
  CHECK_THROWS_AS(seg::io::read_metadata(file), seg::io::io_error);
  CHECK_THROWS_WITH(seg::io::read_metadata(file),
                    Contains("metadata.json") && Contains("nested deeper than 64 levels"));
}

TEST_CASE("a deeply nested queue.json or MQTT payload is refused", "[json_depth]") {
  auto deep_queue = "{\"format\":\"segflow-queue\",\"x\":" + nested(200000) + "}";
  CHECK_THROWS_AS(seg::io::parse_queue(deep_queue, "queue.json"), seg::io::io_error);
  CHECK_THROWS_WITH(seg::io::parse_queue(deep_queue, "queue.json"),
                    Contains("queue.json") && Contains("nested deeper"));
  CHECK_FALSE(seg::io::mqtt::parse_imager_status("{\"status\":" + nested(200000) + "}"));
  CHECK_THROWS_WITH(seg::io::mqtt::parse_request("{\"action\":" + nested(200000) + "}"),
                    Contains("nested deeper"));
}

TEST_CASE("a number beyond a double is an io_error, not an escaped exception", "[json_depth]") {
  seg::test::temp_dir dir;
  auto file = dir.path / "metadata.json";
  std::ofstream(file) << "[10E443";  // the input fuzz_metadata found
  CHECK_THROWS_AS(seg::io::read_metadata(file), seg::io::io_error);
  CHECK_THROWS_WITH(seg::io::read_metadata(file),
                    Contains("metadata.json") && Contains("invalid JSON"));
  CHECK_THROWS_AS(seg::io::parse_queue("{\"format\":1E400}", "queue.json"), seg::io::io_error);
  CHECK_THROWS_WITH(seg::io::parse_queue("{\"format\":1E400}", "queue.json"),
                    Contains("invalid queue file"));
}
