#include "tools/segflow/rejoin.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

namespace seg::cli {

namespace {
constexpr const char* rejoin_variable = "SEGFLOW_WORKER_REJOINS";
} // namespace

std::chrono::milliseconds rejoin_backoff(int attempt) {
  auto ms = 200LL << std::min(attempt, 5);
  return std::chrono::milliseconds(std::min(ms, 5000LL));
}

int rejoin_count() {
  const char* text = std::getenv(rejoin_variable);
  return text ? std::max(0, std::atoi(text)) : 0;
}

void restart_to_rejoin(char** argv) {
  auto next = std::to_string(rejoin_count() + 1);
  ::setenv(rejoin_variable, next.c_str(), 1);
  // CAF's sockets and pipes must not outlive this image: a cut link's socket
  // would otherwise stay open in the fresh process.
  for (int fd = 3; fd < 1024; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0)
      ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  spdlog::info("worker_rejoin rejoins={}", next);
  spdlog::default_logger()->flush();
  ::execv("/proc/self/exe", argv);
  spdlog::error("worker_rejoin_failed error=\"cannot start itself afresh (execv)\"");
}

} // namespace seg::cli
