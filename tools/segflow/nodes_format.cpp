#include "tools/segflow/nodes_format.hpp"

#include <cinttypes>
#include <cstdio>

#include "actors/io/iso_time.hpp"

namespace seg::cli {

namespace {

std::string heartbeat_text(const node_entry& n) {
  if (n.heartbeat_age_ms < 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs ago", double(n.heartbeat_age_ms) / 1000);
  return buf;
}

} // namespace

std::string format_nodes_table(const node_listing& nodes) {
  if (nodes.empty())
    return "no nodes\n";
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-24s %-21s %-8s %7s %8s %8s  %s\n", "NODE", "ADDRESS",
                "STATE", "WORKERS", "FRAMES", "FRAMES/S", "HEARTBEAT");
  out += line;
  for (auto& n : nodes) {
    std::snprintf(line, sizeof line, "%-24s %-21s %-8s %7u %8" PRIu64 " %8.2f  %s\n",
                  n.name.c_str(), n.address.empty() ? "?" : n.address.c_str(),
                  to_string(n.state), n.info.workers, n.frames, n.frames_per_s,
                  heartbeat_text(n).c_str());
    out += line;
    if (n.state == node_state::lost && !n.lost_reason.empty())
      out += std::string(25, ' ') + n.lost_reason + "\n";
  }
  return out;
}

nlohmann::ordered_json nodes_json(const node_listing& nodes) {
  nlohmann::ordered_json out;
  out["nodes"] = nlohmann::ordered_json::array();
  for (auto& n : nodes) {
    nlohmann::ordered_json j;
    j["name"] = n.name;
    j["address"] = n.address;
    j["host"] = n.info.host;
    j["cores"] = n.info.cores;
    j["workers"] = n.info.workers;
    j["version"] = n.info.version;
    j["data_roots"] = n.info.data_roots;
    j["state"] = to_string(n.state);
    j["lost_reason"] = n.lost_reason;
    j["frames"] = n.frames;
    j["frames_per_s"] = n.frames_per_s;
    j["joined"] = io::utc_iso_ms(n.joined_unix_ms);
    if (n.heartbeat_unix_ms >= 0) {
      j["last_heartbeat"] = io::utc_iso_ms(n.heartbeat_unix_ms);
      j["heartbeat_age_ms"] = n.heartbeat_age_ms;
    } else {
      j["last_heartbeat"] = nullptr;
      j["heartbeat_age_ms"] = nullptr;
    }
    out["nodes"].push_back(std::move(j));
  }
  return out;
}

std::uint32_t connected_workers(const node_listing& nodes) {
  std::uint32_t n = 0;
  for (auto& node : nodes)
    if (node.state != node_state::lost)
      n += node.info.workers;
  return n;
}

} // namespace seg::cli
