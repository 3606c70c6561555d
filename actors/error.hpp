#pragma once

#include <optional>
#include <string>

#include <caf/error.hpp>

#include "messages/error.hpp"

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

// The CAF side of seg::ec: errors of the "seg" category, made, recognised,
// rendered and read back in one place.
namespace seg {

/// An error of the "seg" category with `text` as its context (what failed,
/// naming the file or job). Found by ADL, so `make_error(ec::x, text)`.
caf::error make_error(ec code, std::string text);

/// The same without a text; also lets an ec convert to caf::error and
/// compare with one (`err == ec::unknown_job`).
caf::error make_error(ec code);

/// The code of a "seg" error, nothing for other categories (CAF's own, e.g.
/// sec::request_timeout).
std::optional<ec> code_of(const caf::error& err);

/// The text an actor put into an error (a context of one string), else
/// CAF's rendering of it.
std::string error_text(const caf::error& err);

/// The same, rendered by `sys` (which knows every registered category) when
/// the error carries no text.
std::string error_text(caf::actor_system& sys, const caf::error& err);

/// Registers the "seg" category's renderer, so that sys.render(err) prints
/// "seg: <code> (<text>)" like CAF's own categories.
void add_error_category(caf::actor_system_config& cfg);

} // namespace seg
