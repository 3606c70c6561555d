#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Text helpers of the HTML reports: escaping, URLs, numbers, base64.
namespace seg::io::report {

/// `text` with &, <, >, " and ' as entities: safe in element text and in
/// quoted attribute values.
std::string escape_html(std::string_view text);

/// A relative URL path for a file name or a path of '/'-separated names:
/// every byte but unreserved ones (RFC 3986) and '/' percent-encoded, so a
/// crop named "a b#1.jpg" still loads from a file:// page.
std::string url_path(std::string_view path);

/// RFC 4648 base64 of `bytes`.
std::string base64(const std::vector<std::uint8_t>& bytes);

/// `x` with `digits` decimals ("12.3"); "–" for NaN or ±inf.
std::string fixed(double x, int digits);

/// `x` with about 3 significant digits, for axis labels and table cells:
/// "1.23e-05", "0.012", "12.3", "1230", "1.2e+06".
std::string short_number(double x);

/// JSON text made safe inside <script>: every '<' (only ever inside a JSON
/// string) becomes \u003c, so no "</script>" or "<!--" can end or confuse
/// the element.
std::string script_safe(std::string json);

} // namespace seg::io::report
