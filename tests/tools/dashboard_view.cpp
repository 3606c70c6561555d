// Applies the Node-RED dashboard's parsing rules for status/segmenter
// (io::mqtt::dashboard_parse) to each payload line on stdin and prints what
// the dashboard shows, one line each:
//   error<TAB>STATUS | finished<TAB>STATUS | info<TAB>STATUS |
//   progress<TAB>IMAGE<TAB>I<TAB>N
// Exit 1 (naming the line) if a payload is not a status the dashboard can
// read. Used by tests/cli/mqtt_*.sh on every string segflow publishes.
#include <iostream>
#include <string>

#include "actors/io/mqtt_protocol.hpp"

int main() {
  namespace mqtt = seg::io::mqtt;
  using kind = mqtt::dashboard_view::kind;
  std::string line;
  int n = 0;
  while (std::getline(std::cin, line)) {
    ++n;
    try {
      auto v = mqtt::dashboard_parse(line);
      switch (v.what) {
        case kind::error: std::cout << "error\t" << v.status << "\n"; break;
        case kind::finished: std::cout << "finished\t" << v.status << "\n"; break;
        case kind::info: std::cout << "info\t" << v.status << "\n"; break;
        case kind::progress:
          std::cout << "progress\t" << v.image << "\t" << v.index << "\t" << v.total << "\n";
          break;
      }
    } catch (const std::exception& e) {
      std::cerr << "line " << n << ": " << e.what() << "\n";
      return 1;
    }
  }
  return 0;
}
