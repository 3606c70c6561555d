#include "tools/segflow/bench_process.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace seg::cli::bench {

namespace {

child_exit exit_of(int status, const rusage& ru) {
  child_exit e;
  if (WIFEXITED(status))
    e.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    e.signal = WTERMSIG(status);
  e.cpu_s = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
            + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  e.system_s = double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6;
  e.peak_rss_kb = ru.ru_maxrss;
  e.minor_faults = ru.ru_minflt;
  return e;
}

std::optional<child_exit> wait_for(child_process& child, int options) {
  int status = 0;
  rusage ru{};
  for (;;) {
    pid_t r = wait4(child.pid, &status, options, &ru);
    if (r == child.pid) {
      child.pid = -1;
      return exit_of(status, ru);
    }
    if (r == 0)
      return std::nullopt;
    if (errno != EINTR)
      throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
  }
}

// RssAnon + RssFile of a live process, KiB (0 once it is gone).
long private_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  long total = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("RssAnon:", 0) == 0 || line.rfind("RssFile:", 0) == 0)
      total += std::stol(line.substr(line.find(':') + 1));
  return total;
}

// Blocks held by the process's shared-memory segments, KiB.
long shm_kb(pid_t pid) {
  const std::string prefix = "segflow-" + std::to_string(pid) + "-";
  long total = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/dev/shm", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) != 0)
      continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) == 0)
      total += long(st.st_blocks) / 2;
  }
  return total;
}

} // namespace

child_process spawn_process(const std::vector<std::string>& args,
                            const std::filesystem::path& stdout_file,
                            const std::filesystem::path& stderr_file) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string out = stdout_file.string();
  const std::string err = stderr_file.string();
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0)
      _exit(127);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return child_process{pid};
}

child_exit wait_process(child_process& child) {
  return *wait_for(child, 0);
}

child_exit wait_process_sampling(child_process& child, int interval_ms) {
  long peak = 0;
  long peak_shm = 0;
  const pid_t pid = child.pid;
  for (;;) {
    long shm = shm_kb(pid);
    long rss = private_rss_kb(pid);
    if (auto e = wait_for(child, WNOHANG)) {
      e->peak_footprint_kb = std::max(peak, e->peak_rss_kb);
      e->peak_shm_kb = peak_shm;
      return *e;
    }
    peak = std::max(peak, rss + shm);
    peak_shm = std::max(peak_shm, shm);
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
}

std::optional<child_exit> poll_process(child_process& child) {
  return wait_for(child, WNOHANG);
}

std::string describe(const child_exit& e) {
  if (e.signal != 0)
    return "signal " + std::to_string(e.signal);
  return "exit code " + std::to_string(e.exit_code);
}

child_exit run_process(const std::vector<std::string>& args,
                       const std::filesystem::path& stdout_file,
                       const std::filesystem::path& stderr_file) {
  auto child = spawn_process(args, stdout_file, stderr_file);
  return wait_process(child);
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/proc/self/exe") : p.string();
}

} // namespace seg::cli::bench
