// `segflow worker`: a worker node of `segflow serve`, on serve's host or
// another. It registers with serve's gatekeeper (the serve's token and
// node_info: host, cores, workers, version, data roots, where its shared
// memory is), gets the reader, the exporter and the flat source, and runs
// segment workers that pull work from that reader, map the flat field from
// shared memory by name and send results to that exporter. A node that does
// not share serve's shared memory gets frames only (as bytes) and copies
// each flat from serve once into its own (node_flat.hpp). If it dies,
// the reader hands its in-flight frames out again, so nothing is lost.
//
// It runs until SIGINT/SIGTERM. When the serve is gone (restarted, killed,
// the link cut) it joins it again by itself, retrying with backoff
// (rejoin.hpp); with --once it exits instead.
#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <csignal>
#include <ctime>
#include <future>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/segment_worker.hpp"
#include "actors/type_ids.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"
#include "actors/io/node_facts.hpp"
#include "actors/io/node_paths.hpp"
#include "shm/image_segment.hpp"
#include "tools/segflow/endpoint.hpp"
#include "tools/segflow/node_flat.hpp"
#include "tools/segflow/rejoin.hpp"
#include "tools/segflow/remote.hpp"

namespace seg::cli {

namespace {
// The exit status of a worker process that ended itself because one of its
// workers overran the frame time limit.
constexpr int exit_abandoned = 75;
} // namespace

int run_worker(int argc, char** argv) {
  settings_options opts;
  std::string connect = "127.0.0.1:" + std::to_string(default_serve_port);
  std::int64_t workers = 1;
  std::string token_file;
  std::vector<std::string> data_roots;
  tls_files tls;
  std::int64_t link_timeout_ms = default_link_timeout_ms;
  bool once = false;
  arg_parser parser(
    "segflow worker [--connect HOST:PORT] [--workers N] [--token FILE] [--once] [--config FILE]",
    "Joins a running `segflow serve` on this host with N segment workers (after a\n"
    "hello with serve's token, see --token): they\n"
    "pull frames from the serve's reader (frames travel as bytes), map the flat\n"
    "field from shared memory and send results to the serve's exporter. Runs\n"
    "until SIGINT/SIGTERM; if it dies, the serve hands its in-flight frames out\n"
    "again. When the serve is gone (restarted, killed, the link cut) or not yet\n"
    "there, it retries with backoff (200 ms doubling to 5 s) and joins again by\n"
    "itself; a refused hello (wrong token, other version) ends it.\n"
    "`segflow serve --worker-processes N` starts and restarts such processes\n"
    "itself (with --once).");
  opts.declare(parser);
  parser.option("connect", &connect, "HOST:PORT",
                "the serve to join (default 127.0.0.1:" + std::to_string(default_serve_port)
                  + ")");
  parser.option("workers", &workers, "N", "segment workers in this process (default 1)", 1,
                256);
  declare_token_option(parser, token_file);
  parser.repeated("data", &data_roots, "DIR",
                  "a data root this node sees at the same path as serve: once a job's first "
                  "frame there is verified equal to serve's, its frames come as paths and "
                  "the node reads them itself (repeatable)");
  tls.declare(parser);
  declare_link_timeout_option(parser, link_timeout_ms);
  parser.flag("once", &once,
              "exit when the serve cannot be reached within 10 s or is gone, instead of "
              "retrying and joining again");
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  if (!tls.check())
    return exit_usage;
  auto where = parse_endpoint(connect);
  if (!where || where->port == 0) {
    std::cerr << "error: --connect expects HOST:PORT, got '" << connect << "'\n";
    return exit_usage;
  }
  config::settings settings;
  if (!load_settings(opts, settings, {}))
    return exit_usage;
  setup_logging(settings);
  cv::setNumThreads(settings.pipeline.opencv_threads);
  auto token = read_token_or_explain(token_file);
  if (token.empty())
    return exit_usage;

  // Signals are taken by this thread (sigtimedwait).
  auto signals = take_stop_signals();

  caf::actor_system_config cfg;
  configure_network(cfg, tls, link_timeout_ms);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  // Joining runs on a thread of its own: connecting and the handshake block
  // in CAF (for good if serve stops half-way), while this thread watches for
  // SIGINT/SIGTERM. Until it has joined the process holds no work, so a
  // signal then ends it at once.
  struct joined {
    gatekeeper_actor gate;
    node_welcome welcome;
    std::string error;
    bool refused = false; // the serve answered no: retrying cannot help
  };
  auto me = io::local_node(std::uint32_t(workers), data_roots);
  // One attempt: connect, then hello.
  auto join_once = [&]() -> joined {
    joined out;
    auto remote = connect_gatekeeper(sys, *where, tls);
    if (!remote) {
      out.error = "cannot reach segflow serve at " + where->text() + ": "
                  + sys.render(remote.error());
      return out;
    }
    out.gate = *remote;
    auto welcome = hello_join(sys, *remote, token, me, std::chrono::seconds(30));
    if (!welcome) {
      out.error = "joining segflow serve at " + where->text() + ": "
                  + error_text(sys, welcome.error());
      out.refused = welcome.error() != caf::sec::request_timeout;
      return out;
    }
    out.welcome = std::move(*welcome);
    return out;
  };
  auto joining = std::async(std::launch::async, [&]() -> joined {
    // The serve may still be starting (or restarting): retry, for 10 s
    // with --once, else until it answers.
    auto out = join_once();
    for (int attempt = 0; !out.error.empty() && !out.refused && (!once || attempt < 50);
         ++attempt) {
      auto pause = once ? std::chrono::milliseconds(200) : rejoin_backoff(attempt);
      if (!once)
        spdlog::warn("worker_unreachable error=\"{}\" retry_in_ms={}", out.error, pause.count());
      std::this_thread::sleep_for(pause);
      out = join_once();
    }
    return out;
  });
  timespec wait{0, 200 * 1000 * 1000};
  while (joining.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (int sig = sigtimedwait(&signals, nullptr, &wait); sig == SIGINT || sig == SIGTERM) {
      spdlog::info("worker_signal signal={} before joining: exit", sig == SIGINT ? "INT" : "TERM");
      spdlog::default_logger()->flush();
      std::_Exit(exit_ok); // CAF may be blocked in the handshake: no orderly shutdown
    }
  }
  auto join = joining.get();
  if (!join.error.empty()) {
    std::cerr << "error: " << join.error << "\n";
    return exit_usage;
  }
  auto reader = join.welcome.reader;
  auto exporter = join.welcome.exporter;
  bool shares = join.welcome.shares_memory;
  std::shared_ptr<node_flat_cache> flats;
  std::function<void(const std::string&)> provider;
  if (!shares) {
    flats = std::make_shared<node_flat_cache>(sys, join.welcome.flats);
    provider = [flats](const std::string& name) { flats->ensure(name); };
  }
  auto frames = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<io::node_paths> paths;
  if (!data_roots.empty())
    paths = std::make_shared<io::node_paths>(data_roots);
  self->monitor(join.gate); // down when serve or the link is gone
  // This thread supervises the workers: the reader tells it when one of
  // them overran pipeline.frame_timeout_s.
  self->send(reader, atom::join::value, caf::actor_cast<caf::actor>(self), shares);
  std::vector<segment_worker_actor> pool;
  for (std::int64_t i = 0; i < workers; ++i) {
    pool.push_back(
      sys.spawn<caf::detached>(node_segment_worker, reader, exporter, provider, frames, paths));
  }
  spdlog::info("worker_joined serve={} workers={} pid={} host={} shares_memory={} rejoins={}",
               where->text(), workers, ::getpid(), me.host, shares, rejoin_count());

  bool serve_gone = false;
  timespec tick{0, 200 * 1000 * 1000};
  // The registry's heartbeats, at the pace of CAF's own (configure_network).
  auto heartbeat_period = std::chrono::milliseconds(500);
  auto next_heartbeat = std::chrono::steady_clock::now();
  while (!serve_gone) {
    if (auto now = std::chrono::steady_clock::now(); now >= next_heartbeat) {
      self->send(join.welcome.registry, atom::tick::value, sys.node());
      next_heartbeat = now + heartbeat_period;
    }
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("worker_signal signal={}", sig == SIGINT ? "INT" : "TERM");
      break;
    }
    self->receive(
      [&](caf::down_msg&) { serve_gone = true; },
      [&](atom::abandon, const std::string& why) {
        // A worker is stuck in a step and cannot be interrupted: end the
        // process now (the reader requeues the other workers' frames) and
        // let the supervisor start a fresh one.
        spdlog::error("worker_abandoned reason=\"{}\" action=exit exit={} peak_rss_mb={:.0f}",
                      why, exit_abandoned, peak_rss_mb());
        spdlog::default_logger()->flush();
        shm::remove_own_segments(); // the flat copies
        std::_Exit(exit_abandoned);
      },
      caf::after(std::chrono::milliseconds(0)) >> [] {});
  }
  if (serve_gone)
    spdlog::info("worker_serve_gone serve={}", where->text());
  for (auto& w : pool)
    self->send_exit(w, caf::exit_reason::user_shutdown);
  for (auto& w : pool)
    self->wait_for(w);
  spdlog::info("worker_stopped pid={} frames={} read_here={} peak_rss_mb={:.0f}", ::getpid(),
               frames->load(), paths ? paths->reads() : 0, peak_rss_mb());
  if (flats)
    flats->clear();
  if (serve_gone && !once)
    restart_to_rejoin(argv); // returns only if it could not
  spdlog::default_logger()->flush();
  // Nothing is held any more: a frame whose result was still in a socket
  // buffer is handed out again by the reader when this process is gone. So
  // skip CAF's teardown, which in about one exit in four blocked until serve
  // dropped the connection (serve then waited 20 s and sent SIGKILL). The
  // pause lets the middleman write what the workers sent last.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::_Exit(exit_ok);
}

} // namespace seg::cli
