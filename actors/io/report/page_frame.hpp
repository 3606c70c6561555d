#pragma once

#include <string>

// What every report page shares: the head with its style sheet, and the
// tail with the page's numbers as JSON, for tests and scripts.
namespace seg::io::report {

/// From <!doctype html> to the opening <body>; the caller writes the
/// page header and opens <main>.
/// @param kind the page's data-report attribute (acquisition, objects, index)
std::string page_head(const std::string& title, const std::string& kind);

/// The closing </main>, a footer line and the JSON block
/// <script type="application/json" id="segflow-report">.
/// @param json the page's numbers (any JSON text)
std::string page_tail(const std::string& footer_html, const std::string& json);

} // namespace seg::io::report
