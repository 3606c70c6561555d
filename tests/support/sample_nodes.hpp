#pragma once

// Node registry entries for the tests of what carries them (messages,
// ctl nodes' table and JSON).

#include "messages/node.hpp"

namespace seg::test {

/// A lost worker node on another host, every field set.
inline node_entry lost_lab_node() {
  node_entry lab;
  lab.name = "lab1:4242";
  lab.address = "10.0.0.2:51000";
  lab.info.host = "lab1";
  lab.info.workers = 4;
  lab.info.data_roots = {"/mnt/lab-data"};
  lab.state = node_state::lost;
  lab.lost_reason = "no heartbeat for 4200 ms";
  lab.frames = 12;
  lab.joined_unix_ms = 1'700'000'000'000;
  lab.heartbeat_unix_ms = 1'700'000'005'000;
  lab.heartbeat_age_ms = 4200;
  return lab;
}

} // namespace seg::test
