// The other process of the lock manager test "a lease held by another
// process is refused": holds the lease on a folder through its own lock
// manager, on a real actor system, for as long as the test lets it.
//
// Usage: lock_holder FOLDER
// Prints "held" once the lease is taken (or "refused: WHY" and exits 1),
// then keeps the lease until its standard input closes, releases it by
// stopping its lock manager and exits 0.
#include <chrono>
#include <iostream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "actors/lock_manager.hpp"
#include "actors/type_ids.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: lock_holder FOLDER\n";
    return 2;
  }
  caf::actor_system_config cfg;
  seg::configure_actor_system(cfg, false);
  caf::actor_system sys{cfg};
  auto lm = seg::spawn_lock_manager(sys, seg::lock_manager_config{});
  if (!lm) {
    std::cout << "refused: " << sys.render(lm.error()) << std::endl;
    return 1;
  }
  caf::scoped_actor self{sys};
  int rc = 0;
  self->request(*lm, std::chrono::seconds(10), seg::atom::acquire::value, std::string{argv[1]})
    .receive([](seg::lease&) { std::cout << "held" << std::endl; },
             [&](caf::error& err) {
               std::cout << "refused: " << seg::error_text(err) << std::endl;
               rc = 1;
             });
  if (rc == 0) {
    std::string rest;
    while (std::getline(std::cin, rest)) {
      // held until the test closes our standard input
    }
  }
  self->send_exit(*lm, caf::exit_reason::user_shutdown);
  self->wait_for(*lm);
  return rc;
}
