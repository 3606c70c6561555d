#include <iostream>

#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"

namespace seg::cli {

int run_config(int argc, char** argv) {
  settings_options opts;
  bool list_keys = false;
  arg_parser parser("segflow config [--config FILE] [--profile NAME] [--set K=V]... "
                    "[--keys]",
                    "Prints the effective settings as TOML (after defaults, file,\n"
                    "environment and command line), or documents every key.");
  opts.declare(parser);
  parser.flag("keys", &list_keys, "list every key: type, unit, range, defaults, meaning");
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  if (list_keys) {
    for (auto& k : config::keys()) {
      std::cout << k.key << " (" << k.type << (k.unit.empty() ? "" : ", " + k.unit)
                << ")\n  range: " << k.range << "\n  default: '" << k.default_standard
                << "'";
      if (k.default_planktoscope != k.default_standard)
        std::cout << ", planktoscope: '" << k.default_planktoscope << "'";
      std::cout << "\n  " << k.meaning << "\n";
    }
    return exit_ok;
  }
  config::settings s;
  if (!load_settings(opts, s))
    return exit_usage;
  std::cout << config::to_toml(s);
  return exit_ok;
}

} // namespace seg::cli
