#include "shm/process.hpp"

#include <cerrno>
#include <climits>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <signal.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

namespace seg::shm {

bool process_alive(std::int64_t pid) {
  if (pid <= 0 || pid > INT_MAX)
    return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

bool process_started_after(std::int64_t pid, const struct timespec& t) {
  if (pid <= 0 || pid > INT_MAX)
    return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Field 22, starttime in clock ticks since boot, counted after the
  // command name, which ends at the last ')' and may hold spaces.
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return false;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) {
      double ticks = std::stod(field);
      struct timespec real {}, boot {};
      ::clock_gettime(CLOCK_REALTIME, &real);
      ::clock_gettime(CLOCK_BOOTTIME, &boot);
      double booted = double(real.tv_sec - boot.tv_sec) + 1e-9 * double(real.tv_nsec - boot.tv_nsec);
      double started = booted + ticks / double(::sysconf(_SC_CLK_TCK));
      double at = double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
      return started > at + 0.02; // the ticks' resolution
    }
  return false;
}

} // namespace seg::shm
