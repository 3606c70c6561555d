#include "tools/segflow/common.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace seg::cli {

namespace {

// One JSON object per line, with the message properly escaped.
class json_sink : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    nlohmann::json line;
    auto t = std::chrono::duration<double>(msg.time.time_since_epoch()).count();
    line["time"] = t;
    line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                spdlog::level::to_string_view(msg.level).size());
    line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    std::cerr << line.dump() << '\n';
  }
  void flush_() override {
    std::cerr.flush();
  }
};

} // namespace

void settings_options::declare(arg_parser& parser) {
  parser.option("config", &config_file, "FILE",
                "settings file (TOML; see config/segflow.toml)");
  parser.option("profile", &profile, "NAME", "default or planktoscope");
  parser.repeated("set", &sets, "KEY=VALUE", "override one setting, e.g. "
                                             "--set pipeline.workers=2");
  parser.flag("verbose", &verbose, "log more (level debug)");
  parser.alias('v', "verbose");
  parser.flag("quiet", &quiet, "log only warnings and errors");
  parser.alias('q', "quiet");
  parser.flag("log-json", &log_json, "log JSON lines on stderr");
}

config::sources settings_sources(
  const settings_options& opts,
  const std::vector<std::pair<std::string, std::string>>& extra) {
  config::sources src;
  src.file = opts.config_file;
  if (src.file.empty())
    if (const char* env = std::getenv("SEGFLOW_CONFIG"))
      src.file = env;
  src.env = config::environment();
  if (!opts.profile.empty())
    src.overrides.emplace_back("profile", opts.profile);
  for (auto& kv : extra)
    src.overrides.push_back(kv);
  for (auto& s : opts.sets) {
    auto eq = s.find('=');
    if (eq != std::string::npos && eq > 0)
      src.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  if (opts.verbose)
    src.overrides.emplace_back("log.level", "debug");
  if (opts.quiet)
    src.overrides.emplace_back("log.level", "warn");
  if (opts.log_json)
    src.overrides.emplace_back("log.json", "true");
  return src;
}

namespace {

// The sources for `opts`, or false after printing a malformed --set.
bool checked_sources(const settings_options& opts,
                     const std::vector<std::pair<std::string, std::string>>& extra,
                     config::sources& out) {
  for (auto& s : opts.sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: --set expects KEY=VALUE, got '" << s << "'\n";
      return false;
    }
  }
  out = settings_sources(opts, extra);
  return true;
}

bool load_from(const config::sources& src, config::settings& out) {
  try {
    out = config::load(src);
  } catch (const config::config_error& e) {
    std::cerr << "error: configuration: " << e.what() << "\n";
    return false;
  }
  return true;
}

} // namespace

bool load_settings(const settings_options& opts, config::settings& out,
                   const std::vector<std::pair<std::string, std::string>>& extra) {
  config::sources src;
  return checked_sources(opts, extra, src) && load_from(src, out);
}

bool load_run_settings(const settings_options& opts, std::int64_t workers,
                       config::settings& settings, config::sources& sources) {
  std::vector<std::pair<std::string, std::string>> extra;
  if (workers > 0)
    extra.emplace_back("pipeline.workers", std::to_string(workers));
  if (!checked_sources(opts, extra, sources) || !load_from(sources, settings))
    return false;
  setup_logging(settings);
  return true;
}

void setup_logging(const config::settings& s) {
  spdlog::sink_ptr sink;
  if (s.log.json)
    sink = std::make_shared<json_sink>();
  else
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("segflow", sink);
  if (!s.log.json)
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(s.log.level));
  spdlog::set_default_logger(logger);
}

sigset_t take_stop_signals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0; // the line is in kB
  return -1;
}

io::trace_header new_trace_header(const config::settings& effective,
                                  const std::string& command, bool embed_bytes) {
  io::trace_header h;
  h.segflow_version = SEGFLOW_VERSION;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  h.host = host;
  h.profile = config::to_string(effective.run_profile);
  h.settings_toml = config::to_toml(effective);
  h.command = command;
  h.embed_bytes = embed_bytes;
  h.created_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  return h;
}

} // namespace seg::cli
