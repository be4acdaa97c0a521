// send-server: the reference service with SGraph Send's API shape. main reads as its passes:
// configuration -> storage -> frontend -> access log -> [slow-start] -> listen -> serve -> drained.

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "access_log.h"
#include "base/fs.h"
#include "base/log.h"
#include "config.h"
#include "server.h"
#include "service.h"

extern char** environ;

namespace {

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "send-server: error: %s\n", message.c_str());
  return code;
}

std::filesystem::path exe_dir(const char* argv0) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = std::filesystem::absolute(argv0, ec);
  return self.parent_path();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace send_server;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }

  // Configuration: flags and environment; any problem is a usage error.
  auto parsed = parse_config(args, env, exe_dir(argv[0]));
  if (!parsed) return fail(2, parsed.error().message + " (see --help)");
  if (parsed->help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }
  const Config& config = parsed->config;

  // Signals are handled by the server's signal_set; block the default action until it is installed, so a
  // SIGTERM during slow-start still ends in a clean exit.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Storage root.
  if (auto s = villager::ensure_dir(config.data_dir); !s) return fail(1, "data dir: " + s.error().message);

  // Frontend and routes.
  auto service = Service::create(config);
  if (!service) return fail(1, service.error().message);

  // Access log.
  AccessLog access_log;
  if (auto s = access_log.open(config.log_file, config.faults.log_secrets); !s)
    return fail(1, s.error().message);

  // slow-start:MS: a release that takes its time before it listens.
  if (config.faults.slow_start.count() > 0) {
    timespec ts{static_cast<time_t>(config.faults.slow_start.count() / 1000),
                static_cast<long>(config.faults.slow_start.count() % 1000) * 1000000L};
    int sig = 0;
    siginfo_t info;
    sig = sigtimedwait(&set, &info, &ts);
    if (sig == SIGTERM || sig == SIGINT) return 0;
  }

  Server server(config, **service, access_log);
  if (auto s = server.listen(); !s) return fail(1, s.error().message);
  villager::log_event(villager::LogLevel::kInfo, "send", "listening",
                      {{"mode", config.mode == Mode::kUser ? "user" : "admin"},
                       {"addr", config.host + ":" + std::to_string(config.port)},
                       {"version", config.version},
                       {"faults", config.faults.describe()}});
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

  // Serve until SIGTERM has drained every connection.
  server.run();
  villager::log_event(villager::LogLevel::kInfo, "send", "stopped");
  return 0;
}
