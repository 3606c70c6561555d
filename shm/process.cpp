#include "shm/process.hpp"

#include <cerrno>
#include <climits>

#include <signal.h>
#include <sys/types.h>

namespace seg::shm {

bool process_alive(std::int64_t pid) {
  if (pid <= 0 || pid > INT_MAX)
    return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

} // namespace seg::shm
