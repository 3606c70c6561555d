// `segflow ctl nodes`: the table and the JSON of the node registry's listing.
#include "tools/segflow/nodes_format.hpp"

#include <catch2/catch.hpp>

#include "tests/support/sample_nodes.hpp"

using namespace seg;

namespace {

node_listing two_nodes() {
  node_entry local;
  local.name = "coord:100";
  local.address = "local";
  local.info.host = "coord";
  local.info.cores = 8;
  local.info.workers = 3;
  local.info.version = "1.2.3";
  local.state = node_state::ready;
  local.frames = 40;
  local.frames_per_s = 2.5;
  local.joined_unix_ms = 1'700'000'000'000;
  return {local, test::lost_lab_node()};
}

} // namespace

TEST_CASE("ctl nodes: a line per node, a lost node's reason below it", "[nodes]") {
  auto text = cli::format_nodes_table(two_nodes());
  CHECK(text
        == "NODE                     ADDRESS               STATE    WORKERS   FRAMES FRAMES/S  "
           "HEARTBEAT\n"
           "coord:100                local                 ready          3       40     2.50  "
           "-\n"
           "lab1:4242                10.0.0.2:51000        lost           4       12     0.00  "
           "4.2s ago\n"
           "                         no heartbeat for 4200 ms\n");
  CHECK(cli::format_nodes_table({}) == "no nodes\n");
}

TEST_CASE("ctl nodes --json: the same fields, times in UTC, null for none", "[nodes]") {
  auto j = cli::nodes_json(two_nodes());
  REQUIRE(j["nodes"].size() == 2);
  auto& local = j["nodes"][0];
  CHECK(local["name"] == "coord:100");
  CHECK(local["address"] == "local");
  CHECK(local["host"] == "coord");
  CHECK(local["cores"] == 8);
  CHECK(local["workers"] == 3);
  CHECK(local["version"] == "1.2.3");
  CHECK(local["state"] == "ready");
  CHECK(local["frames"] == 40);
  CHECK(local["frames_per_s"] == 2.5);
  CHECK(local["joined"] == "2023-11-14T22:13:20.000Z");
  CHECK(local["last_heartbeat"].is_null());
  CHECK(local["heartbeat_age_ms"].is_null());
  auto& lab = j["nodes"][1];
  CHECK(lab["state"] == "lost");
  CHECK(lab["lost_reason"] == "no heartbeat for 4200 ms");
  CHECK(lab["data_roots"].dump() == R"(["/mnt/lab-data"])");
  CHECK(lab["last_heartbeat"] == "2023-11-14T22:13:25.000Z");
  CHECK(lab["heartbeat_age_ms"] == 4200);
  CHECK(cli::nodes_json({}).dump() == R"({"nodes":[]})");
}

TEST_CASE("ctl status: the workers of the nodes not lost", "[nodes]") {
  auto nodes = two_nodes(); // 3 ready, 4 lost
  CHECK(cli::connected_workers(nodes) == 3);
  nodes[0].state = node_state::joining;
  CHECK(cli::connected_workers(nodes) == 3);
  nodes[0].state = node_state::lost;
  CHECK(cli::connected_workers(nodes) == 0);
  CHECK(cli::connected_workers({}) == 0);
}
