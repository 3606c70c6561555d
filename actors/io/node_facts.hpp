#pragma once

// What a segflow process knows of its host, for a worker node's
// registration (messages/node.hpp) and for serve to tell whether a node
// shares its shared memory.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/node.hpp"

namespace seg::io {

/// This host and process: host name, cores, segflow's version, the boot
/// id and /dev/shm's device and inode, with `workers` and `data_roots`.
node_info local_node(std::uint32_t workers, std::vector<std::string> data_roots = {});

/// A node's name, as `ctl nodes` and status events give it: host:pid.
std::string node_name(const std::string& host, std::uint32_t pid);

/// This process's node name.
std::string this_node_name();

/// Whether two processes map the same shared memory: the same boot (one
/// kernel, one host) and the same /dev/shm (one mount namespace's tmpfs).
bool shares_memory(const node_info& a, const node_info& b);

} // namespace seg::io
