#include "actors/test_fault.hpp"

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

namespace seg {

namespace {

struct test_fault {
  enum class action { abort, hang, sleep, skip } what = action::abort;
  double seconds = 0;
  std::string frame;
};

std::optional<test_fault> parse(const char* text) {
  if (text == nullptr || *text == '\0')
    return std::nullopt;
  std::string spec = text;
  auto at = spec.find('@');
  test_fault f;
  if (at != std::string::npos && at + 1 < spec.size()) {
    auto action = spec.substr(0, at);
    f.frame = spec.substr(at + 1);
    if (action == "abort")
      return f;
    if (action == "hang") {
      f.what = test_fault::action::hang;
      return f;
    }
    if (action == "skip") {
      f.what = test_fault::action::skip;
      return f;
    }
    if (action.rfind("sleep=", 0) == 0) {
      char* end = nullptr;
      f.seconds = std::strtod(action.c_str() + 6, &end);
      if (end != nullptr && *end == '\0' && f.seconds > 0) {
        f.what = test_fault::action::sleep;
        return f;
      }
    }
  }
  spdlog::warn("test_fault_ignored SEGFLOW_TEST_FAULT=\"{}\" (expected abort@FRAME, "
               "hang@FRAME, sleep=SECONDS@FRAME or skip@FRAME; FRAME * for every frame)",
               spec);
  return std::nullopt;
}

} // namespace

bool inject_test_fault(const std::string& frame_name) {
  static const auto fault = parse(std::getenv("SEGFLOW_TEST_FAULT"));
  if (!fault || (fault->frame != frame_name && fault->frame != "*"))
    return false;
  switch (fault->what) {
    case test_fault::action::abort:
      spdlog::warn("test_fault action=abort frame={}", frame_name);
      std::abort();
    case test_fault::action::hang:
      spdlog::warn("test_fault action=hang frame={}", frame_name);
      for (;;)
        std::this_thread::sleep_for(std::chrono::seconds(1));
    case test_fault::action::sleep:
      spdlog::warn("test_fault action=sleep seconds={} frame={}", fault->seconds, frame_name);
      std::this_thread::sleep_for(std::chrono::duration<double>(fault->seconds));
      return false;
    case test_fault::action::skip:
      return true; // no log: it applies to every frame of a benchmark
  }
  return false;
}

} // namespace seg
