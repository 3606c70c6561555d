#pragma once
// A JSON text nested deep enough exhausts the stack in nlohmann's parser
// (200000 '[' in a 400 KB metadata.json ended segflow with SIGSEGV), so
// every JSON text segflow reads from a file or the network is measured first.
#include <cstddef>
#include <string>
#include <string_view>

namespace seg::io {

/// Deepest nesting of the JSON segflow accepts; its own files nest 4 deep.
constexpr std::size_t json_max_depth = 64;

/// True if `text` nests arrays and objects at most `max_depth` deep
/// (brackets inside strings do not count). Says nothing about validity.
bool json_depth_within(std::string_view text, std::size_t max_depth = json_max_depth);

/// The problem named in the error of a text json_depth_within refused.
inline std::string json_too_deep() {
  return "nested deeper than " + std::to_string(json_max_depth) + " levels";
}

} // namespace seg::io
