#include "actors/error.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/make_message.hpp>

namespace seg {

namespace {

constexpr caf::atom_value category = caf::atom("seg");

} // namespace

caf::error make_error(ec code, std::string text) {
  return caf::error{static_cast<std::uint8_t>(code), category,
                    caf::make_message(std::move(text))};
}

caf::error make_error(ec code) {
  return caf::error{static_cast<std::uint8_t>(code), category};
}

std::optional<ec> code_of(const caf::error& err) {
  if (!err || err.category() != category)
    return std::nullopt;
  return static_cast<ec>(err.code());
}

namespace {

const std::string* text_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return &ctx.get_as<std::string>(0);
  return nullptr;
}

} // namespace

std::string error_text(const caf::error& err) {
  if (auto* text = text_of(err))
    return *text;
  return caf::to_string(err);
}

std::string error_text(caf::actor_system& sys, const caf::error& err) {
  if (auto* text = text_of(err))
    return *text;
  return sys.render(err);
}

void add_error_category(caf::actor_system_config& cfg) {
  // The one-argument template of 0.17.6 does not compile (its renderer
  // lacks the category argument): the two-argument form it means.
  cfg.add_error_category(category, [](std::uint8_t code, caf::atom_value,
                                      const caf::message& ctx) {
    std::string out = "seg: ";
    out += to_string(static_cast<ec>(code));
    if (!ctx.empty()) {
      out += " (";
      out += ctx.size() == 1 && ctx.match_element<std::string>(0) ? ctx.get_as<std::string>(0)
                                                                  : caf::to_string(ctx);
      out += ")";
    }
    return out;
  });
}

} // namespace seg
