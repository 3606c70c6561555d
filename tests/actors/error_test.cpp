#include "actors/error.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/sec.hpp>

#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"

namespace {

const seg::ec every_code[] = {
  seg::ec::not_an_acquisition, seg::ec::already_queued, seg::ec::bad_request,
  seg::ec::unknown_job,        seg::ec::bad_state,      seg::ec::shutting_down,
  seg::ec::lease_held,         seg::ec::lock_failed,    seg::ec::output_failed,
  seg::ec::export_stuck,       seg::ec::not_authorized,
};

} // namespace

TEST_CASE("every error code round-trips through caf::error and renders", "[actor]") {
  caf::actor_system_config cfg;
  seg::register_message_types(cfg);
  caf::actor_system sys{cfg};
  for (auto code : every_code) {
    CAPTURE(seg::to_string(code));
    auto err = seg::make_error(code, "what failed");
    CHECK(err.category() == caf::atom("seg"));
    CHECK(seg::code_of(err) == code);
    CHECK(err == code);
    CHECK(seg::error_text(err) == "what failed");
    CHECK(seg::error_text(sys, err) == "what failed");
    CHECK(sys.render(err) == std::string("seg: ") + seg::to_string(code) + " (what failed)");
    CHECK(sys.render(seg::make_error(code)) == std::string("seg: ") + seg::to_string(code));
  }
}

TEST_CASE("errors of other categories have no code and keep CAF's text", "[actor]") {
  caf::actor_system_config cfg;
  seg::register_message_types(cfg);
  caf::actor_system sys{cfg};
  caf::error timeout = caf::sec::request_timeout;
  CHECK_FALSE(seg::code_of(timeout));
  CHECK_FALSE(seg::code_of(caf::error{}));
  CHECK(seg::error_text(sys, timeout) == sys.render(timeout));
}
