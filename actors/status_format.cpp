#include "actors/status_format.hpp"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "actors/io/mqtt_protocol.hpp"

namespace seg {

namespace {

std::string fixed1(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

} // namespace

const char* event_name(event_kind kind) {
  return to_string(kind);
}

const char* state_name(job_state state) {
  return to_string(state);
}

std::string acquisition_label(const std::string& path) {
  auto pos = path.rfind("/img/");
  if (pos == std::string::npos || pos + 5 >= path.size())
    return path;
  return path.substr(pos + 5);
}

std::string format_progress_line(const job_event& ev, const progress_counts& c) {
  std::string line = acquisition_label(ev.path) + " " + std::to_string(ev.frames_done)
                     + "/" + std::to_string(ev.frames_total) + " frames, ";
  auto run_frames = ev.frames_done > c.frames_before ? ev.frames_done - c.frames_before
                                                     : 0u;
  if (run_frames > 0 && ev.elapsed_s > 0) {
    auto rate = run_frames / ev.elapsed_s;
    auto left = ev.frames_total > ev.frames_done ? ev.frames_total - ev.frames_done : 0u;
    auto eta = static_cast<long long>(std::ceil(left / rate));
    line += fixed1(rate) + " frames/s, ETA " + std::to_string(eta) + "s";
  } else {
    line += "-- frames/s, ETA --";
  }
  return line + ", objects " + std::to_string(c.objects);
}

std::string format_event_line(const job_event& ev, const progress_counts& c) {
  auto label = acquisition_label(ev.path);
  switch (ev.kind) {
    case event_kind::job_started: {
      auto line = label + ": started, " + std::to_string(ev.frames_total) + " frames";
      if (c.frames_before > 0)
        line += " (" + std::to_string(c.frames_before) + " already done)";
      return line;
    }
    case event_kind::flat_ready:
      return label + ": flat ready in " + fixed1(ev.ms / 1000.0) + "s";
    case event_kind::frame_failed:
      return label + ": frame " + std::to_string(ev.frame_index + 1ull) + "/"
             + std::to_string(ev.frames_total) + " " + ev.frame_name
             + " failed: " + ev.message;
    case event_kind::job_finished: {
      auto line = label + ": " + state_name(ev.state) + ", "
                  + std::to_string(ev.frames_done) + "/"
                  + std::to_string(ev.frames_total) + " frames, "
                  + std::to_string(ev.objects) + " objects in "
                  + fixed1(ev.elapsed_s) + "s";
      if (!ev.message.empty())
        line += ": " + ev.message;
      return line;
    }
    case event_kind::frame_done:
      break;
  }
  return {};
}

std::string format_json_line(const job_event& ev) {
  // ordered_json keeps the documented field order, which helps people reading.
  nlohmann::ordered_json j;
  j["event"] = event_name(ev.kind);
  j["job_id"] = ev.job_id;
  j["path"] = ev.path;
  j["state"] = state_name(ev.state);
  j["frame_index"] = ev.frame_index;
  j["frame_name"] = ev.frame_name;
  j["frames_done"] = ev.frames_done;
  j["frames_total"] = ev.frames_total;
  j["objects"] = ev.objects;
  j["ms"] = ev.ms;
  j["elapsed_s"] = ev.elapsed_s;
  j["message"] = ev.message;
  j["op"] = ev.op_id;
  j["node"] = ev.node;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string format_reference_status(const job_event& ev) {
  std::string status;
  switch (ev.kind) {
    case event_kind::job_started:
      status = "Calculating flat";
      break;
    case event_kind::frame_done:
    case event_kind::frame_failed:
      status = "Segmenting image " + ev.frame_name + ", image "
               + std::to_string(ev.frame_index + 1ull) + "/"
               + std::to_string(ev.frames_total);
      break;
    case event_kind::job_finished:
      if (ev.state == job_state::done)
        status = "Done";
      else if (ev.state == job_state::interrupted)
        status = "Interrupted";
      else
        status = io::mqtt::exception_text(ev.message);
      break;
    case event_kind::flat_ready:
      return {};
  }
  if (status.empty())
    return {};
  return io::mqtt::status_json(status);
}

} // namespace seg
