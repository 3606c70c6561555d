// libFuzzer target: serve's queue.json (parse_queue), and what a restart does
// with an accepted queue (prepare_restart, then format it again: the output
// must parse back).
#include <cstdlib>
#include <string_view>

#include "actors/io/io_error.hpp"
#include "actors/io/queue_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  seg::io::queue_snapshot q;
  try {
    q = seg::io::parse_queue(text, "queue.json");
  } catch (const seg::io::io_error&) {
    return 0; // a refused file
  }
  seg::io::prepare_restart(q);
  auto again = seg::io::format_queue(q);
  try {
    (void)seg::io::parse_queue(again, "queue.json");
  } catch (const seg::io::io_error&) {
    std::abort(); // what serve writes, it must read back
  }
  return 0;
}
