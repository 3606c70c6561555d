// `segflow trace dump FILE` and `segflow trace diff A B`.
#include <iostream>

#include "tools/segflow/trace_compare.hpp"
#include "actors/io/trace_file.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/args.hpp"

namespace seg::cli {

namespace {

int dump(const std::string& file) {
  io::trace_reader reader(file);
  auto& h = reader.header();
  std::cout << "trace " << file << "\n  format " << h.version << ", segflow "
            << h.segflow_version << ", host " << h.host << ", profile " << h.profile
            << ", command " << h.command << "\n  data root " << h.data_root
            << "\n  bytes " << (h.embed_bytes ? "embedded" : "as hash + size") << "\n";
  for (auto& in : h.inputs)
    std::cout << "  input " << in << "\n";
  std::size_t n = 0;
  while (auto r = reader.next()) {
    char head[64];
    std::snprintf(head, sizeof head, "%6llu %10.3f ms ", (unsigned long long) r->seq,
                  double(r->time_ns) / 1e6);
    std::cout << head << r->sender << " -> " << r->receiver << "  " << r->type << "  "
              << io::payload_text(r->payload) << "\n";
    ++n;
  }
  std::cout << n << " messages\n";
  return exit_ok;
}

int diff(const std::string& a, const std::string& b) {
  // Two recordings are two runs, each with its own operation ids.
  auto cmp = compare_traces(a, b, /*operation_ids=*/false);
  if (cmp.equal) {
    std::cout << "equal: " << cmp.compared
              << " messages match (times, ids and locations ignored)\n";
    return exit_ok;
  }
  std::cout << "first divergence: " << cmp.divergence << "\n";
  return exit_failed;
}

} // namespace

int run_trace(int argc, char** argv) {
  std::vector<std::string> args;
  arg_parser parser("segflow trace dump FILE | segflow trace diff A B",
                    "dump prints a message trace readably; diff shows the first message\n"
                    "that differs between two traces, ignoring times, ids, pids, hosts and\n"
                    "the data root's location. Exit 0 equal, 1 different, 2 unreadable.");
  parser.positionals(&args, "dump FILE | diff A B", 2);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  try {
    if (args[0] == "dump" && args.size() == 2)
      return dump(args[1]);
    if (args[0] == "diff" && args.size() == 3)
      return diff(args[1], args[2]);
  } catch (const io::trace_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  std::cerr << "error: expected `dump FILE` or `diff A B`\n" << parser.help();
  return exit_usage;
}

} // namespace seg::cli
