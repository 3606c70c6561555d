#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

// Text exactly as Python 3 prints values, for byte-parity of the EcoTaxa TSV
// with the reference segmenter (pandas + str()/repr()).
namespace seg::io {

/// Python's repr(float) (also str(float) and numpy's float64 str): shortest
/// digits that round-trip; scientific when the decimal exponent is < -4 or
/// >= 16 ("1e-05", "1.5e-07", "1e+16"), otherwise fixed with at least one
/// digit after the point ("0.0", "2.0", "123.5", "-0.0"); "inf", "-inf", "nan".
std::string python_repr_float(double value);

/// Python's repr(int).
std::string python_repr_int(std::int64_t value);

/// Python's repr(int) for values above INT64_MAX.
std::string python_repr_uint(std::uint64_t value);

/// Python's repr(str): single quotes unless the text contains a single quote
/// and no double quote; backslash, the quote, \t \n \r escaped; other
/// non-printable characters as \xNN / \uNNNN. Non-ASCII printable text is
/// kept as UTF-8. Limitation: printability outside ASCII is decided from a
/// short list (C1 controls, U+00A0, U+00AD, U+2028/2029, U+200B–U+200F,
/// U+FEFF, surrogates, noncharacters), not the full Unicode database.
/// @param utf8 valid UTF-8 (what a JSON parser returns).
std::string python_repr_str(std::string_view utf8);

/// repr() of the value json.load would return for `value`: dicts as
/// "{'k': v, ...}" in key order, lists as "[a, b]", strings quoted as above,
/// True/False/None, numbers as above.
std::string python_repr_json(const nlohmann::ordered_json& value);

/// str() of the same: like python_repr_json but a top-level string is the text
/// itself. null gives "None".
std::string python_str_json(const nlohmann::ordered_json& value);

} // namespace seg::io
