// segflow: one executable, one subcommand per job (DESIGN.md, command line).
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "tools/segflow/args.hpp"
#include "tools/segflow/commands.hpp"

namespace {

struct command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const command commands[] = {
  {"segment", seg::cli::run_segment, "segment acquisitions, one job each, then exit"},
  {"synth", seg::cli::run_synth, "write a synthetic PlanktoScope-layout acquisition"},
  {"demo", seg::cli::run_demo, "synthesise a demo acquisition and segment it"},
  {"replay", seg::cli::run_replay, "re-run a recorded trace and compare its messages"},
  {"trace", seg::cli::run_trace, "dump a message trace, or diff two"},
  {"config", seg::cli::run_config, "print the effective settings or document the keys"},
  {"validate-ecotaxa", seg::cli::run_validate_ecotaxa, "check EcoTaxa archives for import"},
  {"report", seg::cli::run_report, "write the HTML reports of segmented acquisitions"},
  {"serve", seg::cli::run_serve, "run the queue service (published for ctl) until stopped"},
  {"worker", seg::cli::run_worker, "join a running serve with segment workers"},
  {"ctl", seg::cli::run_ctl, "control a running serve: add, list, move, stop, watch, ..."},
  {"mqtt", seg::cli::run_mqtt, "bridge the PlanktoScope's MQTT segmenter protocol onto serve"},
  {"certs", seg::cli::run_certs, "make a small CA and host certificates for mutual TLS"},
  {"ops", seg::cli::run_ops, "list stuck operations (exports that did not finish), recover one"},
  {"bench", seg::cli::run_bench, "measure segflow against the decode floor and the reference"},
};

void print_help(std::ostream& os) {
  os << "usage: segflow <command> [options]\n\n"
        "Segments plankton-imager acquisitions (PlanktoScope layout) into object\n"
        "crops and EcoTaxa archives.\n\ncommands:\n";
  for (auto& c : commands) {
    std::string name = c.name;
    name.resize(name.size() < 12 ? 12 : name.size() + 1, ' ');
    os << "  " << name << c.summary << "\n";
  }
  os << "\n`segflow <command> --help` documents each command's options.\n"
        "Exit codes: 0 all done, 1 some frame or job failed, 2 usage or\n"
        "configuration error, 3 interrupted.\n";
}

// Runs a subcommand; anything it did not handle (a filesystem_error on a
// path like "", a bad_alloc, ...) becomes its message and exit code 2,
// never an abort.
int run_guarded(const command& c, int argc, char** argv) {
  try {
    return c.run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: segflow " << c.name << ": " << e.what() << "\n";
  } catch (...) {
    std::cerr << "error: segflow " << c.name << ": unexpected failure\n";
  }
  return seg::cli::exit_usage;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help(std::cerr);
    return seg::cli::exit_usage;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_help(std::cout);
    return seg::cli::exit_ok;
  }
  if (name == "--version") {
    std::cout << "segflow " << SEGFLOW_VERSION << "\n";
    return seg::cli::exit_ok;
  }
  for (auto& c : commands)
    if (name == c.name)
      return run_guarded(c, argc, argv);
  std::cerr << "error: unknown command '" << name << "'\n\n";
  print_help(std::cerr);
  return seg::cli::exit_usage;
}
