// proxy_bench: the villager edge proxy as a standalone process, for bench/proxy_vs_haproxy.sh.
//   proxy_bench --listen 127.0.0.1:P --upstream 127.0.0.1:Q [--threads N] [--observer | --metrics]
//               [--max-body-bytes N]
// --max-body-bytes sets ProxyLimits::max_body_bytes (0 = no limit), for the streaming e2e tests.
// --metrics records every request into monitor::MetricsRegistry as the agent does (bench/proxy_metrics.sh).
// Runs until SIGINT/SIGTERM, then stops gracefully. Prints "listening PORT" on stdout once bound.

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "base/clock.h"
#include "monitor/metrics.h"
#include "proxy/proxy.h"

namespace {

int usage() {
  std::cerr << "usage: proxy_bench --listen HOST:PORT --upstream HOST:PORT [--threads N] [--observer | "
               "--metrics] [--max-body-bytes N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace villager::proxy;
  std::string listen, upstream;
  int threads = 1;
  bool observer = false;
  bool metrics = false;
  long long max_body_bytes = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--listen") {
      const char* v = value();
      if (!v) return usage();
      listen = v;
    } else if (a == "--upstream") {
      const char* v = value();
      if (!v) return usage();
      upstream = v;
    } else if (a == "--threads") {
      const char* v = value();
      if (!v) return usage();
      threads = std::atoi(v);
    } else if (a == "--max-body-bytes") {
      const char* v = value();
      if (!v) return usage();
      max_body_bytes = std::atoll(v);
    } else if (a == "--observer") {
      observer = true;
    } else if (a == "--metrics") {
      metrics = true;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      return usage();
    }
  }
  if (listen.empty() || upstream.empty() || threads < 1) return usage();
  auto hp = split_host_port(upstream);
  if (!hp) {
    std::cerr << "proxy_bench: error: --upstream: " << hp.error().message << "\n";
    return 2;
  }

  // Block the stop signals before any thread starts, then wait for one on the main thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  Routes routes(RouteTable{{Upstream{"bench", hp->first, hp->second, 1}}, ""});
  ProxyOptions options;
  options.listen = listen;
  options.threads = threads;
  if (max_body_bytes == 0) options.limits.max_body_bytes = SIZE_MAX;
  if (max_body_bytes > 0) options.limits.max_body_bytes = static_cast<size_t>(max_body_bytes);
  static std::atomic<uint64_t> observed{0};
  if (observer)
    options.observer = [](const RequestRecord& r) {
      observed.fetch_add(r.status > 0, std::memory_order_relaxed);
    };
  villager::monitor::MetricsRegistry registry(villager::real_clock());
  auto recorder = registry.recorder("bench", "bench");
  if (metrics)
    options.observer = [rec = recorder.get()](const RequestRecord& r) {
      rec->record(r.release_id, r.status, r.latency_us, r.bytes_in, r.bytes_out);
    };
  Proxy proxy(options, routes);
  if (auto st = proxy.start(); !st.ok()) {
    std::cerr << "proxy_bench: error: " << st.error().message << "\n";
    return 1;
  }
  std::cout << "listening " << proxy.port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  proxy.stop();
  auto s = proxy.stats();
  std::cerr << "proxy_bench: requests=" << s.requests << " upstream_connects=" << s.upstream_connects
            << " stale_retries=" << s.stale_retries;
  if (metrics) {
    uint64_t recorded = 0;
    for (const auto& [key, counts] : registry.collect()) recorded += counts.requests;
    std::cerr << " recorded=" << recorded;
  }
  std::cerr << "\n";
  return 0;
}
