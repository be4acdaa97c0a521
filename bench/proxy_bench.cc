// proxy_bench: the villager edge proxy as a standalone process, for bench/proxy_vs_haproxy.sh.
//   proxy_bench --listen 127.0.0.1:P --upstream 127.0.0.1:Q [--threads N] [--observer | --metrics]
//               [--max-body-bytes N] [--tls-cert PEM --tls-key PEM]... [--tls-reload-ms N]
//               [--redirect-https PORT] [--upgrade-drain-ms N]
// --max-body-bytes sets ProxyLimits::max_body_bytes (0 = no limit), for the streaming e2e tests.
// --upstream may repeat: releases "bench", "bench2", ...; the first takes all traffic, and SIGUSR1 moves
// it to the next (a route swap, for the e2e tests). --tls-cert/--tls-key (paired, may repeat) serve HTTPS;
// SIGHUP reloads them. --redirect-https answers every request 308 to HTTPS on PORT. SIGUSR2 prints
// "stats upgrades=N open=RELEASE:N,..." on stdout.
// --metrics records every request into monitor::MetricsRegistry as the agent does (bench/proxy_metrics.sh).
// Runs until SIGINT/SIGTERM, then stops gracefully. Prints "listening PORT" on stdout once bound.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "monitor/metrics.h"
#include "proxy/proxy.h"

namespace {

int usage() {
  std::cerr << "usage: proxy_bench --listen HOST:PORT --upstream HOST:PORT... [--threads N] [--observer | "
               "--metrics] [--max-body-bytes N] [--tls-cert PEM --tls-key PEM]... [--tls-reload-ms N] "
               "[--redirect-https PORT] [--upgrade-drain-ms N]\n";
  return 2;
}

// All weight on upstream `active`, the others kept at weight 0 (warm, as the agent keeps a previous release).
villager::proxy::RouteTable table_for(const std::vector<villager::proxy::Upstream>& ups, size_t active) {
  villager::proxy::RouteTable t{ups, ""};
  for (size_t i = 0; i < t.upstreams.size(); ++i) t.upstreams[i].weight = i == active ? 1 : 0;
  return t;
}

void print_stats(const villager::proxy::Proxy& proxy) {
  auto s = proxy.stats();
  std::string open;
  for (const auto& [release, n] : s.upgraded_by_release)
    open += (open.empty() ? "" : ",") + release + ":" + std::to_string(n);
  std::cout << "stats upgrades=" << s.upgrades << " open=" << open << " tls_handshakes=" << s.tls_handshakes
            << " tls_failures=" << s.tls_failures << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace villager::proxy;
  std::string listen;
  std::vector<std::string> upstream_args;
  std::vector<std::string> certs, keys;
  long long tls_reload_ms = -1, upgrade_drain_ms = -1;
  int redirect_port = 0;
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
      upstream_args.push_back(v);
    } else if (a == "--tls-cert" || a == "--tls-key") {
      const char* v = value();
      if (!v) return usage();
      (a == "--tls-cert" ? certs : keys).push_back(v);
    } else if (a == "--tls-reload-ms" || a == "--upgrade-drain-ms") {
      const char* v = value();
      if (!v) return usage();
      (a == "--tls-reload-ms" ? tls_reload_ms : upgrade_drain_ms) = std::atoll(v);
    } else if (a == "--redirect-https") {
      const char* v = value();
      if (!v) return usage();
      redirect_port = std::atoi(v);
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
  if (listen.empty() || upstream_args.empty() || threads < 1 || certs.size() != keys.size()) return usage();
  std::vector<Upstream> upstreams;
  for (const std::string& u : upstream_args) {
    auto hp = split_host_port(u);
    if (!hp) {
      std::cerr << "proxy_bench: error: --upstream: " << hp.error().message << "\n";
      return 2;
    }
    const std::string id = upstreams.empty() ? "bench" : "bench" + std::to_string(upstreams.size() + 1);
    upstreams.push_back(Upstream{id, hp->first, hp->second, 1});
  }

  // Block the stop signals before any thread starts, then wait for one on the main thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  size_t active = 0;
  Routes routes(table_for(upstreams, active));
  ProxyOptions options;
  if (!certs.empty()) {
    std::vector<CertFiles> files;
    for (size_t i = 0; i < certs.size(); ++i) files.push_back({certs[i], keys[i]});
    auto store = open_cert_files(std::move(files));
    if (!store) {
      std::cerr << "proxy_bench: error: " << store.error().message << "\n";
      return 1;
    }
    options.tls = *store;
  }
  if (tls_reload_ms >= 0) options.tls_reload_interval = std::chrono::milliseconds(tls_reload_ms);
  if (upgrade_drain_ms >= 0)
    options.limits.upgrade_drain_timeout = std::chrono::milliseconds(upgrade_drain_ms);
  options.redirect_https_port = static_cast<uint16_t>(redirect_port);
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
  for (;;) {
    sigwait(&set, &sig);
    if (sig == SIGHUP) {
      auto st = proxy.reload_certificates();
      std::cout << (st.ok() ? "reloaded" : "reload failed: " + st.error().message) << std::endl;
    } else if (sig == SIGUSR1) {
      active = (active + 1) % upstreams.size();
      (void)routes.store(table_for(upstreams, active));
      std::cout << "routed " << upstreams[active].release_id << std::endl;
    } else if (sig == SIGUSR2) {
      print_stats(proxy);
    } else {
      break;
    }
  }
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
