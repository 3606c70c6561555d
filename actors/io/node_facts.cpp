#include "actors/io/node_facts.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

namespace seg::io {

namespace {

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0)
    return host;
  return {};
}

} // namespace

std::string node_name(const std::string& host, std::uint32_t pid) {
  return host + ":" + std::to_string(pid);
}

std::string this_node_name() {
  return node_name(host_name(), std::uint32_t(::getpid()));
}

node_info local_node(std::uint32_t workers, std::vector<std::string> data_roots) {
  node_info n;
  n.host = host_name();
  n.cores = std::thread::hardware_concurrency();
  n.workers = workers;
  n.version = SEGFLOW_VERSION;
  n.data_roots = std::move(data_roots);
  std::ifstream("/proc/sys/kernel/random/boot_id") >> n.boot_id;
  struct stat st {};
  if (::stat("/dev/shm", &st) == 0) {
    n.shm_device = std::uint64_t(st.st_dev);
    n.shm_inode = std::uint64_t(st.st_ino);
  }
  return n;
}

bool shares_memory(const node_info& a, const node_info& b) {
  return !a.boot_id.empty() && a.boot_id == b.boot_id && a.shm_device == b.shm_device
         && a.shm_inode == b.shm_inode;
}

} // namespace seg::io
