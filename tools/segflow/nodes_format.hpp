#pragma once

// `segflow ctl nodes`: the node registry's listing as a table and as JSON
// (the same fields).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/node.hpp"

namespace seg::cli {

/// One line per node under a header (NODE is host:pid, the name status
/// events give a frame's node), a lost node's reason on the line below it;
/// "no nodes" for none.
std::string format_nodes_table(const node_listing& nodes);

/// {"nodes": [{name, address, host, cores, workers, version, data_roots,
/// state, lost_reason, frames, frames_per_s, joined, last_heartbeat,
/// heartbeat_age_ms}, ...]}; times are UTC ISO 8601, null for none.
nlohmann::ordered_json nodes_json(const node_listing& nodes);

/// The workers of the nodes that are joining or ready (not lost): 0 means
/// no worker anywhere can take a frame.
std::uint32_t connected_workers(const node_listing& nodes);

} // namespace seg::cli
