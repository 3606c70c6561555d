// `segflow serve`: a long-running coordinator. It holds the queue and the
// one-host pipeline and publishes its gatekeeper (actors/gatekeeper.hpp)
// with CAF's middleman: `segflow ctl`, the MQTT bridge and worker nodes say
// hello with the token of the state directory and get their handles. Beyond
// loopback it listens only with mutual TLS (or --insecure, for tests). The queue lives in <state dir>/queue.json, rewritten atomically
// on every change, so a restart (even after kill -9) restores it and resumes
// the job that was running.
//
// Start-up prints one line on stdout, flushed, once clients can connect:
//   listening: <host>:<port>
// SIGINT/SIGTERM: stop listening, stop the running job cooperatively (it is
// interrupted and resumes at the next start), save the queue, stop every
// actor, exit 0, or 3 if a job was interrupted. With --mqtt it also runs the
// PlanktoScope MQTT bridge (tools/segflow/mqtt_service.hpp) on its queue.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

#include "actors/flat_source.hpp"
#include "actors/gatekeeper.hpp"
#include "actors/node_registry.hpp"
#include "actors/io/node_facts.hpp"
#include "actors/io/queue_store.hpp"
#include "actors/io/serve_token.hpp"
#include "actors/lock_manager.hpp"
#include "actors/queue.hpp"
#include "actors/status_hub.hpp"
#include "actors/status_sinks.hpp"
#include "actors/trace.hpp"
#include "actors/type_ids.hpp"
#include "shm/image_segment.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/ops_recover.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/control_gate.hpp"
#include "tools/segflow/endpoint.hpp"
#include "tools/segflow/mqtt_service.hpp"
#include "tools/segflow/remote.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

// One serve per state directory: an flock held for the process's lifetime
// (released by the kernel even after kill -9).
class state_dir_lock {
public:
  ~state_dir_lock() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  // Returns an error text, empty on success.
  std::string acquire(const fs::path& dir) {
    auto file = dir / "serve.lock";
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      return file.string() + ": cannot open: " + std::strerror(errno);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char buf[32] = {};
      auto n = ::pread(fd_, buf, sizeof buf - 1, 0);
      std::string pid = n > 0 ? std::string(buf, std::size_t(n)) : "?";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
        pid.pop_back();
      return "state directory " + dir.string() + " is in use by another segflow serve (pid "
             + pid + ")";
    }
    auto text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) < 0)
      return file.string() + ": cannot write: " + std::strerror(errno);
    return {};
  }

private:
  int fd_ = -1;
};

// Runs `segflow worker --connect ADDR` child processes (same executable) and
// restarts one that dies, after a short delay, until stop().
class worker_process_pool {
public:
  worker_process_pool(std::size_t count, std::string addr, std::vector<std::string> extra)
    : pids_(count, -1), addr_(std::move(addr)), extra_(std::move(extra)) {
  }

  ~worker_process_pool() {
    stop();
  }

  void start() {
    thread_ = std::thread([this] { supervise(); });
  }

  // SIGTERM to every child, then waits (SIGKILL after 20 s).
  void stop() {
    if (!thread_.joinable())
      return;
    stopping_ = true;
    thread_.join();
    for (auto pid : pids_)
      if (pid > 0)
        ::kill(pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (auto& pid : pids_) {
      while (pid > 0) {
        int status = 0;
        rusage usage{};
        auto r = ::wait4(pid, &status, WNOHANG, &usage);
        if (r == pid)
          log_exit(std::size_t(&pid - pids_.data()), pid, status, usage);
        if (r == pid || (r < 0 && errno != EINTR)) {
          pid = -1;
          break;
        }
        if (std::chrono::steady_clock::now() > deadline)
          ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

private:
  // Every exit is logged with the child's peak RSS (ru_maxrss is in kB).
  static void log_exit(std::size_t slot, pid_t pid, int status, const rusage& usage) {
    bool signalled = WIFSIGNALED(status);
    auto level = signalled || WEXITSTATUS(status) != 0 ? spdlog::level::warn
                                                        : spdlog::level::info;
    spdlog::log(level, "worker_process_exited slot={} pid={} {}={} peak_rss_mb={:.0f}", slot,
                pid, signalled ? "signal" : "exit",
                signalled ? WTERMSIG(status) : WEXITSTATUS(status),
                double(usage.ru_maxrss) / 1024.0);
  }

  pid_t spawn() {
    // --once: this supervisor restarts its children; they do not rejoin by
    // themselves.
    std::vector<std::string> args = {"segflow", "worker", "--connect", addr_, "--once"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    auto parent = ::getpid();
    auto pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls from here on. The child dies with serve.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent)
        ::_exit(1);
      for (int fd = 3; fd < 1024; ++fd)
        ::close(fd); // the listening socket and CAF's pipes stay with serve
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    return pid;
  }

  void supervise() {
    using clock = std::chrono::steady_clock;
    std::vector<clock::time_point> restart_at(pids_.size(), clock::now());
    while (!stopping_) {
      for (std::size_t i = 0; i < pids_.size(); ++i) {
        if (pids_[i] > 0) {
          int status = 0;
          rusage usage{};
          if (::wait4(pids_[i], &status, WNOHANG, &usage) != pids_[i])
            continue;
          log_exit(i, pids_[i], status, usage);
          pids_[i] = -1;
          restart_at[i] = clock::now() + std::chrono::seconds(1);
        } else if (clock::now() >= restart_at[i]) {
          pids_[i] = spawn();
          if (pids_[i] > 0)
            spdlog::info("worker_process_started slot={} pid={}", i, pids_[i]);
          else
            restart_at[i] = clock::now() + std::chrono::seconds(1);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::vector<pid_t> pids_;
  std::string addr_;
  std::vector<std::string> extra_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace

int run_serve(int argc, char** argv) {
  settings_options opts;
  std::string listen = "127.0.0.1:" + std::to_string(default_serve_port);
  std::string state_dir;
  std::int64_t workers = -1;
  std::int64_t worker_processes = 0;
  bool no_prepare_next = false;
  std::string trace_file;
  bool trace_embed = false;
  std::string mqtt_broker;
  mqtt_options mqtt_opts;
  tls_files tls;
  bool insecure = false;
  std::int64_t link_timeout_ms = default_link_timeout_ms;
  arg_parser parser(
    "segflow serve [--listen HOST:PORT] [--state DIR] [--workers N] "
    "[--worker-processes N] [--profile NAME] [--config FILE] [--trace FILE] "
    "[--tls-cert FILE --tls-key FILE --tls-ca FILE] [--insecure]",
    "Runs the queue of acquisitions and the pipeline until SIGINT/SIGTERM, and\n"
    "publishes a gatekeeper for `segflow ctl`, `mqtt` and `worker`: a hello with\n"
    "the token in DIR/token (made on the first start, mode 0600) gets the queue's\n"
    "handles. Beyond loopback it needs mutual TLS (--tls-*). Prints\n"
    "`listening: HOST:PORT` on stdout once clients can connect. The queue and\n"
    "every job's state live in DIR/queue.json: after a restart (even after\n"
    "kill -9) finished jobs are listed as before, the running job resumes from\n"
    "its committed frames and pending jobs keep their order. On SIGINT/SIGTERM\n"
    "the running job is interrupted (it resumes at the next start); exit code 0,\n"
    "or 3 if a job was interrupted.");
  opts.declare(parser);
  parser.option("listen", &listen, "HOST:PORT",
                "address to listen on (default 127.0.0.1:" + std::to_string(default_serve_port)
                  + "; port 0 = any free port)");
  parser.option("state", &state_dir, "DIR",
                "state directory (default $XDG_STATE_HOME/segflow, else "
                "~/.local/state/segflow)");
  parser.option("workers", &workers, "N",
                "in-process segment workers (default: cores - 1, at least 1; with "
                "--worker-processes default 0)",
                0, 256);
  parser.option("worker-processes", &worker_processes, "N",
                "start N `segflow worker` processes (one segment worker each) and restart "
                "one that dies; a lost process's in-flight frames are handed out again",
                0, 64);
  parser.flag("no-prepare-next",
              &no_prepare_next,
              "do not prepare the next job while the running job's last frames are in "
              "flight (to measure what the overlap saves)");
  parser.option("trace", &trace_file, "FILE",
                "record every message of the serve's actors, control commands included, "
                "to FILE (see segflow trace, segflow replay)");
  parser.flag("trace-embed", &trace_embed,
              "embed frame and crop bytes in the trace (default: hash + size)");
  parser.option("mqtt", &mqtt_broker, "HOST[:PORT]",
                "also speak the PlanktoScope segmenter's MQTT protocol through this broker "
                "(e.g. 127.0.0.1:1883; see segflow mqtt --help)");
  mqtt_opts.declare(parser);
  tls.declare(parser);
  declare_link_timeout_option(parser, link_timeout_ms);
  parser.flag("insecure", &insecure,
              "FOR TESTS ONLY: listen beyond loopback without TLS (anyone on the network "
              "can read the traffic and, with the token, control serve)");
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  if (!tls.check())
    return exit_usage;
  std::optional<endpoint> broker;
  if (!mqtt_broker.empty() && !(broker = parse_broker(mqtt_broker, "--mqtt")))
    return exit_usage;
  if (!mqtt_opts.check())
    return exit_usage;
  if (workers == 0 && worker_processes == 0) {
    std::cerr << "error: --workers 0 needs --worker-processes N\n";
    return exit_usage;
  }
  auto where = parse_endpoint(listen);
  if (!where) {
    std::cerr << "error: --listen expects HOST:PORT, got '" << listen << "'\n";
    return exit_usage;
  }
  if (!is_loopback(where->host) && !tls.enabled() && !insecure) {
    std::cerr << "error: --listen " << listen
              << " is beyond loopback and needs mutual TLS: give --tls-cert, --tls-key and "
                 "--tls-ca (make them with `segflow certs init DIR --host NAME`), or listen "
                 "on 127.0.0.1\n";
    return exit_usage;
  }

  config::settings settings;
  std::vector<std::pair<std::string, std::string>> extra;
  if (workers > 0)
    extra.emplace_back("pipeline.workers", std::to_string(workers));
  if (!load_settings(opts, settings, extra))
    return exit_usage;
  auto sources = settings_sources(opts, extra);
  setup_logging(settings);

  // The queue file: restored, then written once to check it can be.
  fs::path dir = state_dir.empty() ? io::default_state_dir() : fs::path(state_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "error: state directory " << dir.string() << ": " << ec.message() << "\n";
    return exit_usage;
  }
  dir = fs::absolute(dir);
  state_dir_lock dir_lock;
  if (auto err = dir_lock.acquire(dir); !err.empty()) {
    std::cerr << "error: " << err << "\n";
    return exit_usage;
  }
  auto queue_file = dir / io::queue_file_name;
  io::queue_snapshot restored;
  std::string token;
  try {
    token = io::load_or_create_token(dir);
    if (auto loaded = io::load_queue(queue_file))
      restored = std::move(*loaded);
    io::prepare_restart(restored);
    io::save_queue(queue_file, restored);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  prune_journal(dir, settings);
  // A serve killed between a job's end and its lease release left the lease
  // in a folder no later job revisits.
  std::vector<std::string> job_folders;
  for (auto& j : restored.jobs)
    job_folders.push_back(j.spec.path);
  release_dead_leases(job_folders);
  {
    // An export a dead process of this host left unfinished is recovered
    // before the queue starts.
    segment_request base;
    base.settings = settings;
    base.sources = sources;
    recover_dead_operations(dir, job_folders, base);
  }

  // Signals are taken by this thread with sigwait.
  auto signals = take_stop_signals();
  // Clients and jobs share the descriptors: take all the system allows.
  auto fd_limit = raise_descriptor_limit();

  if (auto n = shm::sweep_stale_segments(); n > 0)
    spdlog::info("shm_swept segments={}", n);
  cv::setNumThreads(settings.pipeline.opencv_threads);
  auto n_workers = std::uint32_t(
    config::effective_workers(settings, std::max(1u, std::thread::hardware_concurrency())));
  auto in_process = n_workers;
  if (worker_processes > 0) {
    in_process = workers >= 0 ? std::uint32_t(workers) : 0;
    n_workers = in_process + std::uint32_t(worker_processes);
  }

  if (insecure && !is_loopback(where->host))
    spdlog::warn("INSECURE: serve listens on {} WITHOUT TLS (--insecure is for tests only): "
                 "the traffic, the token included, can be read on the network",
                 where->text());
  caf::actor_system_config cfg;
  configure_network(cfg, tls, link_timeout_ms);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  // Trace from the first message on. What shapes the actor set goes into
  // the header's inputs; the data root is the first job's (see replay).
  if (!trace_file.empty()) {
    auto h = new_trace_header(settings, "serve", trace_embed);
    h.inputs = {"workers=" + std::to_string(in_process),
                "worker_processes=" + std::to_string(worker_processes),
                "prepare_next=" + std::to_string(no_prepare_next ? 0 : 1),
                "restored_jobs=" + std::to_string(restored.jobs.size())};
    try {
      trace::start(trace_file, h);
    } catch (const std::exception& e) {
      std::cerr << "error: --trace: " << e.what() << "\n";
      return exit_usage;
    }
  }
  auto hub = spawn_status_hub(sys);
  progress_sink_config pcfg;
  pcfg.out = stderr;
  pcfg.tty = false;
  pcfg.min_interval = std::chrono::seconds(10);
  auto progress = spawn_progress_sink(sys, hub, pcfg);
  auto locks = spawn_lock_manager(sys, lock_manager_config{});
  if (!locks) {
    std::cerr << "error: lock manager: " << sys.render(locks.error()) << "\n";
    self->send_exit(hub, caf::exit_reason::user_shutdown);
    self->send_exit(progress, caf::exit_reason::user_shutdown);
    trace::stop();
    return exit_usage;
  }
  node_registry_config ncfg;
  ncfg.heartbeat_timeout = std::chrono::milliseconds(link_timeout_ms);
  // CAF sees the gate's clients on loopback: the registry shows whom the
  // gate relays (set once the gate listens; cleared before it goes).
  auto gate_view = std::make_shared<std::atomic<const control_gate*>>(nullptr);
  ncfg.address_of = [gate_view](const std::string& host, std::uint16_t port) {
    if (auto* g = gate_view->load(); g != nullptr && is_loopback(host))
      if (auto client = g->client_behind(port); !client.empty())
        return client;
    return host + ":" + std::to_string(port);
  };
  auto registry = spawn_node_registry(sys, ncfg);
  // serve's own workers are a node too.
  if (in_process > 0)
    self->send(registry, atom::add::value, sys.node(), io::local_node(in_process));
  auto qcfg = make_queue_config(settings, sources, n_workers, in_process);
  qcfg.reader.registry = registry;
  qcfg.state_file = queue_file.string();
  qcfg.state_dir = dir.string();
  qcfg.initial = restored;
  qcfg.prepare_next = !no_prepare_next;
  auto spawned = spawn_queue(sys, qcfg, hub, *locks);
  if (!spawned) {
    std::cerr << "error: queue: " << sys.render(spawned.error()) << "\n";
    for (auto a : {caf::actor_cast<caf::actor>(*locks), caf::actor_cast<caf::actor>(hub),
                   caf::actor_cast<caf::actor>(progress), caf::actor_cast<caf::actor>(registry)})
      self->send_exit(a, caf::exit_reason::user_shutdown);
    trace::stop();
    return exit_usage;
  }
  auto q = *spawned;
  queue_control_actor control = q;
  auto flats = spawn_flat_source(sys);
  auto gatekeeper =
    spawn_gatekeeper(sys, control, flats, registry, io::local_node(in_process), token);

  auto stop_actors = [&] {
    // Dataflow order, so the progress sink prints every last event.
    for (auto a : {caf::actor_cast<caf::actor>(gatekeeper), caf::actor_cast<caf::actor>(flats),
                   caf::actor_cast<caf::actor>(q), caf::actor_cast<caf::actor>(registry),
                   caf::actor_cast<caf::actor>(*locks),
                   caf::actor_cast<caf::actor>(hub), caf::actor_cast<caf::actor>(progress)}) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->wait_for(a);
    }
    trace::stop();
  };

  // CAF listens on loopback only; clients reach it through the gate, which
  // bounds their handshake and their number (control_gate.hpp).
  auto port = publish_gatekeeper(gatekeeper, tls);
  std::unique_ptr<control_gate> gate;
  try {
    if (!port)
      throw std::runtime_error("cannot listen on 127.0.0.1:0: " + sys.render(port.error()));
    gate = std::make_unique<control_gate>(where->host, where->port);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    stop_actors();
    return exit_usage;
  }
  auto limits = limits_for_descriptors(fd_limit, open_descriptors(),
                                       std::max<std::uint64_t>(64, fd_limit / 4));
  gate->start(*port, limits, tls.enabled() ? gate_protocol::tls : gate_protocol::basp);
  gate_view->store(gate.get());
  endpoint bound = *where;
  bound.port = gate->port();
  std::printf("listening: %s\n", bound.text().c_str());
  std::fflush(stdout);
  auto workers_address = "127.0.0.1:" + std::to_string(*port);
  spdlog::info("serve_listening address={} workers_address={} state={} workers={} "
               "worker_processes={} jobs={} fd_limit={} max_clients={} tls={}",
               bound.text(), workers_address, queue_file.string(), in_process,
               worker_processes, restored.jobs.size(), fd_limit, limits.max_clients,
               tls.enabled() ? "mutual" : "off");
  std::vector<std::string> child_args = {"--token", (dir / io::token_file_name).string()};
  if (!opts.config_file.empty())
    child_args.insert(child_args.end(), {"--config", opts.config_file});
  if (tls.enabled())
    child_args.insert(child_args.end(), {"--tls-cert", tls.certificate, "--tls-key", tls.key,
                                         "--tls-ca", tls.ca});
  // Children join CAF's port directly: they are serve's own, not clients.
  worker_process_pool children(std::size_t(worker_processes), workers_address, child_args);
  if (worker_processes > 0)
    children.start();
  std::unique_ptr<mqtt_service> mqtt;
  if (broker)
    mqtt = mqtt_service::start(sys, control, *broker, mqtt_opts);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0 || (sig != SIGINT && sig != SIGTERM)) {
    // nop: only SIGINT and SIGTERM are waited for
  }
  spdlog::warn("signal_received signal={} action=shutdown", sig == SIGINT ? "INT" : "TERM");

  // No new clients, then stop the running job (it resumes at the next start).
  gate->stop_accepting();
  if (auto closed = unpublish_gatekeeper(gatekeeper, *port, tls); !closed)
    spdlog::warn("unpublish_failed error=\"{}\"", sys.render(closed.error()));
  int rc = exit_ok;
  self->request(q, std::chrono::seconds(120), atom::shutdown::value)
    .receive(
      [&](queue_listing& all) {
        for (auto& j : all.jobs)
          if (j.resume && job_state(j.summary.state) == job_state::interrupted)
            rc = exit_interrupted;
      },
      [&](caf::error& err) {
        spdlog::error("shutdown_failed error=\"{}\"", sys.render(err));
        rc = exit_failed;
      });
  children.stop();
  if (mqtt)
    mqtt->stop(self); // after the queue's last events: Interrupted, then Dead
  stop_actors();
  gate_view->store(nullptr);
  gate->stop();
  spdlog::info("serve_stopped exit={} peak_rss_mb={:.0f}", rc, peak_rss_mb());
  return rc;
}

} // namespace seg::cli
