#include "shm/process.hpp"

#include <climits>

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

TEST_CASE("process_alive: this process and init are, a reaped child is not", "[shm]") {
  using seg::shm::process_alive;
  CHECK(process_alive(::getpid()));
  CHECK(process_alive(1)); // init, whoever owns it
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0)
    ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK_FALSE(process_alive(child));
  // kill() would address process groups with these.
  CHECK_FALSE(process_alive(0));
  CHECK_FALSE(process_alive(-1));
  CHECK_FALSE(process_alive(std::int64_t(INT_MAX) + 1));
}
