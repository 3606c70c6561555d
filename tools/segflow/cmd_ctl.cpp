// `segflow ctl`: a client of `segflow serve`. It connects to serve's
// gatekeeper (CAF BASP over TCP, with mutual TLS when given certificates),
// says hello with serve's token for the queue control interface
// (queue_control_actor), sends one request and prints the answer; `watch` subscribes a local sink actor and
// prints status events until Ctrl-C. Exit codes: 0 done; 2 usage error, a
// request serve refused (unknown job id, moving a running job, a path that is
// not an acquisition, ...) or serve not reachable (naming the address).
#include <signal.h>

#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/error.hpp"
#include "actors/interfaces.hpp"
#include "actors/io/queue_store.hpp"
#include "actors/status_format.hpp"
#include "actors/type_ids.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/endpoint.hpp"
#include "tools/segflow/nodes_format.hpp"
#include "tools/segflow/remote.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

using clock_type = std::chrono::steady_clock;

// -- watch: a local status sink whose handle travels to serve ---------------

struct watch_state {
  bool json = false;
  std::map<std::uint64_t, progress_counts> jobs;

  static inline const char* name = "ctl-watch";
};

status_sink_actor::behavior_type
watch_sink(status_sink_actor::stateful_pointer<watch_state> self, bool json) {
  self->state.json = json;
  return {
    [self](const job_event& ev) {
      auto& st = self->state;
      std::string line;
      if (st.json) {
        line = format_json_line(ev);
      } else {
        auto& counts = st.jobs[ev.job_id];
        switch (event_kind(ev.kind)) {
          case event_kind::job_started:
            counts = progress_counts{ev.frames_done, 0};
            line = format_event_line(ev, counts);
            break;
          case event_kind::frame_done:
            counts.objects += ev.objects;
            line = format_progress_line(ev, counts);
            break;
          default:
            line = format_event_line(ev, counts);
            break;
        }
        if (event_kind(ev.kind) == event_kind::job_finished)
          st.jobs.erase(ev.job_id);
        if (line.empty())
          return;
        line = "job " + std::to_string(ev.job_id) + ": " + line;
      }
      line += "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
    },
  };
}

// -- text output ----------------------------------------------------------

std::string seconds_text(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) / 60 % 60);
  return buf;
}

std::string started_text(const job_record& j) {
  auto v = io::job_json(j)["started"];
  return v.is_string() ? v.get<std::string>() : "-";
}

void print_listing(const queue_listing& all) {
  std::printf("queue: %s\n", all.paused ? "stopped (no further job starts; resume-queue "
                                          "to go on)"
                                        : "running");
  if (all.jobs.empty()) {
    std::printf("no jobs\n");
    return;
  }
  std::printf("%5s %4s %-12s %9s %7s %8s  %s\n", "ID", "POS", "STATE", "FRAMES", "OBJECTS",
              "ELAPSED", "PATH");
  for (auto& j : all.jobs) {
    auto& s = j.summary;
    auto frames = std::to_string(s.frames_done) + "/" + std::to_string(s.frames_total);
    auto pos = j.position > 0 ? std::to_string(j.position) : "-";
    auto elapsed = j.started_unix_ms > 0 ? seconds_text(j.elapsed_s) : "-";
    std::printf("%5" PRIu64 " %4s %-12s %9s %7u %8s  %s\n", j.spec.id, pos.c_str(),
                to_string(job_state(s.state)), frames.c_str(), s.objects, elapsed.c_str(),
                j.spec.path.c_str());
    if (!s.error.empty())
      std::printf("%5s %4s %s\n", "", "", s.error.c_str());
  }
}

void print_job(const job_record& j) {
  auto& s = j.summary;
  std::printf("job %" PRIu64 "\n", j.spec.id);
  std::printf("  path:     %s\n", j.spec.path.c_str());
  std::printf("  state:    %s\n", to_string(job_state(s.state)));
  if (j.position > 0)
    std::printf("  position: %u\n", j.position);
  std::printf("  frames:   %u/%u done, %u failed, %u resumed\n", s.frames_done,
              s.frames_total, s.frames_failed, s.frames_resumed);
  std::printf("  objects:  %u\n", s.objects);
  if (!s.nodes.empty()) {
    std::string by_node;
    for (auto& n : s.nodes)
      by_node += (by_node.empty() ? "" : ", ") + n.node + " " + std::to_string(n.frames);
    std::printf("  nodes:    %s\n", by_node.c_str());
  }
  std::printf("  started:  %s\n", started_text(j).c_str());
  std::printf("  elapsed:  %s\n",
              j.started_unix_ms > 0 ? seconds_text(j.elapsed_s).c_str() : "-");
  if (j.spec.force)
    std::printf("  force:    yes\n");
  for (auto& o : j.spec.overrides)
    std::printf("  setting:  %s\n", o.c_str());
  if (!s.error.empty())
    std::printf("  error:    %s\n", s.error.c_str());
  for (auto& f : s.failures)
    std::printf("  failed frame: %s\n", f.c_str());
  if (!s.zip.empty())
    std::printf("  ecotaxa:  %s\n", s.zip.c_str());
}

void print_json(const nlohmann::ordered_json& j) {
  auto text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::optional<std::uint64_t> parse_id(const std::string& text) {
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || id == 0)
    return std::nullopt;
  return id;
}

// An absolute path for serve, whose working directory differs.
std::string absolute_path(const std::string& p) {
  auto abs = fs::absolute(fs::path(p)).lexically_normal();
  if (abs.filename().empty() && abs.has_parent_path() && abs != abs.root_path())
    abs = abs.parent_path();
  return abs.string();
}

// -- the connection -------------------------------------------------------

// The exit code of a request serve refused, by the refusal's code: each is
// a request to fix (usage), none a failed job.
int exit_code_of(const caf::error& err) {
  auto code = code_of(err);
  if (!code)
    return exit_usage; // CAF's own (e.g. serve's interface differs)
  switch (*code) {
    case ec::not_an_acquisition:
    case ec::already_queued:
    case ec::bad_request:
    case ec::unknown_job:
    case ec::bad_state:
    case ec::shutting_down:
    case ec::lease_held:
    case ec::lock_failed:
    case ec::output_failed:
    case ec::export_stuck:
    case ec::not_authorized:
    case ec::none:
      return exit_usage;
  }
  return exit_usage;
}

// Bounds a blocking call that has no timeout of its own (CAF's remote_actor
// waits forever for the handshake of a peer that accepts and never answers):
// if the guard is still alive at the deadline, the process prints `what` and
// exits 2.
class deadline_guard {
public:
  deadline_guard(clock_type::time_point deadline, std::string what)
    : thread_([this, deadline, what = std::move(what)] {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!done_cv_.wait_until(lock, deadline, [this] { return done_; })) {
          std::fprintf(stderr, "error: %s\n", what.c_str());
          std::_Exit(exit_usage);
        }
      }) {
    // nop
  }
  ~deadline_guard() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  deadline_guard(const deadline_guard&) = delete;
  deadline_guard& operator=(const deadline_guard&) = delete;

private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_; // last: starts once the members it uses exist
};

struct session {
  caf::actor_system& sys;
  caf::scoped_actor& self;
  queue_control_actor q;
  endpoint where;
  clock_type::time_point deadline; ///< of the whole call (--timeout)
  std::chrono::seconds timeout;

  /// What is left of --timeout (at least 1 ms: a request needs some time).
  std::chrono::milliseconds remaining() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline
                                                                      - clock_type::now());
    return std::max(left, std::chrono::milliseconds(1));
  }

  // Sends a request, waits for the answer and runs `ok` on it; reports
  // errors. Returns an exit code.
  template <class F, class... Ts>
  int ask(F ok, std::chrono::milliseconds limit, Ts&&... xs) {
    int rc = exit_ok;
    self->request(q, limit, std::forward<Ts>(xs)...)
      .receive(ok, [&](caf::error& err) {
        rc = exit_usage;
        if (err == caf::sec::request_timeout) {
          std::cerr << "error: segflow serve at " << where.text()
                    << " did not answer within "
                    << std::max(timeout, std::chrono::duration_cast<std::chrono::seconds>(limit))
                         .count()
                    << " s\n";
          return;
        }
        rc = exit_code_of(err);
        std::cerr << "error: " << error_text(sys, err) << "\n";
      });
    return rc;
  }
};

int do_stop(session& s, std::uint64_t id) {
  // A finished job stays finished: say so without sending a stop.
  std::optional<job_state> before;
  if (auto rc = s.ask([&](job_record& j) { before = job_state(j.summary.state); },
                      s.remaining(), atom::status::value, id);
      rc != exit_ok)
    return rc;
  if (before != job_state::pending && before != job_state::running) {
    std::printf("job %" PRIu64 " is %s: nothing to stop\n", id, to_string(*before));
    return exit_ok;
  }
  auto sent = clock_type::now();
  return s.ask(
    [&](job_record& j) {
      double ms = std::chrono::duration<double, std::milli>(clock_type::now() - sent).count();
      auto state = job_state(j.summary.state);
      if (state == job_state::interrupted)
        std::printf("job %" PRIu64 " interrupted (stop answered in %.1f ms)\n", id, ms);
      else
        std::printf("job %" PRIu64 " is %s: nothing to stop (answered in %.1f ms)\n", id,
                    to_string(state), ms);
    },
    std::max(s.remaining(), std::chrono::milliseconds(60'000)), atom::stop::value, id);
}

int do_watch(session& s, bool json, sigset_t& signals) {
  auto sink = s.sys.spawn(watch_sink, json);
  int rc = s.ask([](bool) {}, s.remaining(), atom::subscribe::value, sink);
  if (rc != exit_ok) {
    s.self->send_exit(sink, caf::exit_reason::user_shutdown);
    return rc;
  }
  std::fprintf(stderr, "watching %s (Ctrl-C to stop)\n", s.where.text().c_str());
  s.self->monitor(s.q);
  bool gone = false;
  timespec tick{0, 100'000'000};
  for (;;) {
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM)
      break;
    s.self->receive([&](caf::down_msg&) { gone = true; },
                    caf::after(std::chrono::seconds(0)) >> [] {});
    if (gone) {
      std::cerr << "error: lost the connection to segflow serve at " << s.where.text()
                << "\n";
      rc = exit_usage;
      break;
    }
  }
  // serve's queue sees the sink go down and drops it.
  s.self->send_exit(sink, caf::exit_reason::user_shutdown);
  s.self->wait_for(sink);
  return rc;
}

} // namespace

int run_ctl(int argc, char** argv) {
  std::string connect;
  if (const char* env = std::getenv("SEGFLOW_CONNECT"))
    connect = env;
  if (connect.empty())
    connect = "127.0.0.1:" + std::to_string(default_serve_port);
  bool json = false;
  bool force = false;
  std::string profile;
  std::vector<std::string> sets;
  std::int64_t to = 0;
  std::int64_t timeout = 10;
  std::string token_file;
  tls_files tls;
  std::vector<std::string> words;
  arg_parser parser(
    "segflow ctl [--connect HOST:PORT] [--token FILE] COMMAND [ARGS]",
    "Controls a running `segflow serve`. Commands:\n"
    "  add PATH... [--force] [--profile NAME] [--set KEY=VALUE]...\n"
    "                       queue acquisitions (all, or none if one is not an\n"
    "                       acquisition or is queued already)\n"
    "  list [--json]        every job in queue order (POS: rank among pending)\n"
    "  status ID [--json]   one job\n"
    "  move ID --to POS     move a pending job (POS 1 runs next)\n"
    "  remove ID            remove a pending job\n"
    "  stop ID              stop that job (it ends interrupted); the queue goes on\n"
    "  stop-queue           the running job finishes, no further job starts\n"
    "  resume-queue         start jobs again\n"
    "  stop-all             stop-queue, then stop the running job\n"
    "  watch [--json]       print status events until Ctrl-C\n"
    "  nodes [--json]       every worker node: address, state (joining, ready,\n"
    "                       lost), workers, frames done, frames/s over the last\n"
    "                       minute, last heartbeat; serve's own workers: local\n"
    "Job states: pending, running, done, partial (some frames failed), failed,\n"
    "interrupted. --json fields: id, path, state, position, frames_done,\n"
    "frames_total, frames_failed, failures, objects, started (UTC), elapsed (s),\n"
    "error, op (the last run's operation id), nodes (frames per node, host:pid),\n"
    "workers_connected (a running job: workers of the nodes not lost; 0: the\n"
    "job waits for one), ... Frame events of watch --json name their node. The address defaults to\n"
    "$SEGFLOW_CONNECT, else 127.0.0.1:4750. Exit codes: 0 done, 2 usage error,\n"
    "request refused or serve not reachable.");
  parser.option("connect", &connect, "HOST:PORT", "address of segflow serve");
  parser.flag("json", &json, "list, status, watch, nodes: JSON output");
  parser.flag("force", &force, "add: remove earlier outputs and start over");
  parser.option("profile", &profile, "NAME", "add: settings profile of the jobs");
  parser.repeated("set", &sets, "KEY=VALUE", "add: one setting of the jobs");
  parser.option("to", &to, "POS", "move: the new position among pending jobs (1 = next)", 1,
                1'000'000);
  parser.option("timeout", &timeout, "S", "seconds the whole call may take, connecting included (default 10)", 1,
                3600);
  declare_token_option(parser, token_file);
  tls.declare(parser);
  parser.positionals(&words, "COMMAND", 1);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;

  auto usage = [](const std::string& what) {
    std::cerr << "error: " << what << "\n(see segflow ctl --help)\n";
    return exit_usage;
  };
  const auto cmd = words.front();
  const std::vector<std::string> args(words.begin() + 1, words.end());
  struct shape {
    const char* name;
    std::size_t min_args;
    std::size_t max_args;
  };
  const shape shapes[] = {{"add", 1, SIZE_MAX}, {"list", 0, 0},         {"status", 1, 1},
                          {"move", 1, 1},       {"remove", 1, 1},       {"stop", 1, 1},
                          {"stop-queue", 0, 0}, {"resume-queue", 0, 0}, {"stop-all", 0, 0},
                          {"watch", 0, 0},      {"nodes", 0, 0}};
  const shape* found = nullptr;
  for (auto& sh : shapes)
    if (cmd == sh.name)
      found = &sh;
  if (found == nullptr)
    return usage("unknown command '" + cmd + "'");
  if (args.size() < found->min_args)
    return usage(cmd + ": missing " + (cmd == "add" ? "PATH" : "ID"));
  if (args.size() > found->max_args)
    return usage(cmd + ": unexpected argument '" + args[found->max_args] + "'");
  if ((force || !profile.empty() || !sets.empty()) && cmd != "add")
    return usage("--force, --profile and --set go with add");
  if (json && cmd != "list" && cmd != "status" && cmd != "watch" && cmd != "nodes")
    return usage("--json goes with list, status, watch and nodes");
  if (to > 0 && cmd != "move")
    return usage("--to goes with move");
  if (cmd == "move" && to == 0)
    return usage("move: missing --to POS");
  std::optional<std::uint64_t> id;
  if (found->max_args == 1) {
    id = parse_id(args.front());
    if (!id)
      return usage(cmd + ": '" + args.front() + "' is not a job id (a number >= 1)");
  }
  for (auto& p : args)
    if (cmd == "add" && p.empty())
      return usage("add: an empty PATH");
  for (auto& kv : sets)
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      return usage("--set expects KEY=VALUE, got '" + kv + "'");
  auto where = parse_endpoint(connect);
  if (!where || where->port == 0)
    return usage("--connect expects HOST:PORT, got '" + connect + "'");
  if (!tls.check())
    return exit_usage;
  auto token = read_token_or_explain(token_file);
  if (token.empty())
    return exit_usage;

  // Only watch takes signals (sigtimedwait); other commands die of them.
  sigset_t signals;
  sigemptyset(&signals);
  if (cmd == "watch")
    signals = take_stop_signals();

  // --timeout bounds the whole call, connecting and CAF's handshake included.
  auto deadline = clock_type::now() + std::chrono::seconds(timeout);
  caf::actor_system_config cfg;
  configure_network(cfg, tls);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto gate = [&] {
    deadline_guard guard(deadline, "segflow serve at " + where->text()
                                     + " did not complete the connection within "
                                     + std::to_string(timeout) + " s");
    return connect_gatekeeper(sys, *where, tls);
  }();
  if (!gate) {
    std::cerr << "error: cannot reach segflow serve at " << where->text() << ": "
              << sys.render(gate.error())
              << (tls.enabled() ? " (with TLS: does serve use TLS, and trust this CA?)"
                  : gate.error() == caf::sec::disconnect_during_handshake
                    ? " (does serve require TLS? give --tls-cert, --tls-key and --tls-ca)"
                    : "")
              << "\n";
    return exit_usage;
  }
  auto sent = clock_type::now();
  auto control = hello_control(sys, *gate, token,
                               std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          deadline - sent),
                                        std::chrono::milliseconds(1)));
  if (!control) {
    std::cerr << "error: segflow serve at " << where->text() << ": "
              << error_text(sys, control.error()) << "\n";
    return exit_code_of(control.error());
  }
  session s{sys, self, *control, *where, deadline, std::chrono::seconds(timeout)};

  if (cmd == "add") {
    std::vector<job_spec> specs;
    for (auto& p : args) {
      job_spec spec;
      spec.path = absolute_path(p);
      spec.force = force;
      if (!profile.empty())
        spec.overrides.push_back("profile=" + profile);
      spec.overrides.insert(spec.overrides.end(), sets.begin(), sets.end());
      specs.push_back(std::move(spec));
    }
    return s.ask(
      [&](std::vector<std::uint64_t>& ids) {
        for (std::size_t i = 0; i < ids.size() && i < specs.size(); ++i)
          std::printf("job %" PRIu64 " queued: %s\n", ids[i], specs[i].path.c_str());
      },
      s.remaining(), atom::add::value, specs);
  }
  if (cmd == "list")
    return s.ask(
      [&](queue_listing& all) {
        if (json)
          print_json(io::listing_json(all));
        else
          print_listing(all);
      },
      s.remaining(), atom::list::value);
  if (cmd == "status") {
    std::optional<job_record> record;
    if (int rc = s.ask([&](job_record& j) { record = std::move(j); }, s.remaining(),
                       atom::status::value, *id);
        rc != exit_ok)
      return rc;
    // A running job with no worker connected anywhere waits for one: say so.
    std::optional<std::uint32_t> workers;
    if (job_state(record->summary.state) == job_state::running) {
      node_listing nodes;
      if (int rc = s.ask([&](node_listing& n) { nodes = std::move(n); }, s.remaining(),
                         atom::nodes::value);
          rc != exit_ok)
        return rc;
      workers = connected_workers(nodes);
    }
    if (json) {
      auto j = io::job_json(*record);
      if (workers)
        j["workers_connected"] = *workers;
      print_json(j);
    } else {
      print_job(*record);
      if (workers && *workers == 0)
        std::printf("  waiting:  no worker is connected to serve (see segflow ctl nodes); "
                    "the job goes on when one joins\n");
      else if (workers)
        std::printf("  workers:  %u connected\n", *workers);
    }
    return exit_ok;
  }
  if (cmd == "nodes")
    return s.ask(
      [&](node_listing& nodes) {
        if (json) {
          print_json(nodes_json(nodes));
        } else {
          auto text = format_nodes_table(nodes);
          std::fwrite(text.data(), 1, text.size(), stdout);
        }
      },
      s.remaining(), atom::nodes::value);
  if (cmd == "move")
    return s.ask(
      [&](queue_listing&) {
        std::printf("job %" PRIu64 " moved to position %" PRId64 "\n", *id, to);
      },
      s.remaining(), atom::move::value, *id, std::uint32_t(to));
  if (cmd == "remove")
    return s.ask([&](job_record& j) {
      std::printf("job %" PRIu64 " removed: %s\n", j.spec.id, j.spec.path.c_str());
    }, s.remaining(), atom::remove::value, *id);
  if (cmd == "stop")
    return do_stop(s, *id);
  if (cmd == "stop-queue" || cmd == "stop-all") {
    std::optional<std::uint64_t> running;
    int rc = s.ask(
      [&](queue_listing& all) {
        for (auto& j : all.jobs)
          if (job_state(j.summary.state) == job_state::running)
            running = j.spec.id;
        if (cmd == "stop-queue" && running)
          std::printf("queue stopped: job %" PRIu64 " finishes, no further job starts\n",
                      *running);
        else
          std::printf("queue stopped: no further job starts\n");
      },
      s.remaining(), atom::stop_queue::value);
    if (rc != exit_ok || cmd == "stop-queue" || !running)
      return rc;
    return do_stop(s, *running);
  }
  if (cmd == "resume-queue")
    return s.ask([&](queue_listing&) { std::printf("queue resumed\n"); }, s.remaining(),
                 atom::resume::value);
  return do_watch(s, json, signals);
}

} // namespace seg::cli
