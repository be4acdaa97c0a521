#pragma once
// The edge proxy: HTTP/1.1 keep-alive on both sides, one listener per service address, requests routed by
// a Routes table that can be swapped at any time. Runs its own io_context threads; start() binds and
// returns, stop() drains gracefully. Errors are answered as JSON {"status":"error","message":...}.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "proxy/route_table.h"

namespace villager::proxy {

// One certificate (PEM: the leaf first, then its chain) and its private key (PEM, mode 0600 or stricter).
struct CertFiles {
  std::string cert_file;
  std::string key_file;
};

class CertSet;  // proxy/cert_store.h: loaded SSL contexts

// What a TLS listener takes its certificates from. A handshake asks current() and keeps that set until its
// connection closes, so installing a new set (a reload, later an ACME renewal) changes new handshakes
// only. Thread-safe. FileCertStore (cert_store.h) reads PEM files; an ACME store would implement it too.
class CertStore {
 public:
  virtual ~CertStore() = default;
  // The set new handshakes use.
  virtual std::shared_ptr<const CertSet> current() const = 0;
  // Reads the certificates again now (SIGHUP). On failure the set in use stays and the error says why.
  virtual Status reload() = 0;
  // Called periodically by the proxy: reloads when the source changed since the last attempt. True when
  // a new set was installed.
  virtual Result<bool> reload_if_changed() = 0;
};

// A CertStore over PEM files, loaded now: errors name the file (a key readable by group or others, a
// key that does not match its certificate, a certificate naming no host), never key content.
Result<std::shared_ptr<CertStore>> open_cert_files(std::vector<CertFiles> files);

// Every limit the proxy enforces, each a named value with its default.
struct ProxyLimits {
  static constexpr size_t kDefaultMaxHeaderBytes = 16 * 1024;
  static constexpr size_t kDefaultMaxBodyBytes = 64 * 1024 * 1024;
  static constexpr size_t kDefaultMaxResponseBytes = 0;  // unlimited: response bodies are streamed
  static constexpr size_t kDefaultStreamBufferBytes = 64 * 1024;
  static constexpr size_t kMinStreamBufferBytes = 4 * 1024;
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{60'000};
  static constexpr std::chrono::milliseconds kDefaultRequestTimeout{30'000};
  static constexpr std::chrono::milliseconds kDefaultUpstreamConnectTimeout{2'000};
  static constexpr std::chrono::milliseconds kDefaultUpstreamTimeout{60'000};
  static constexpr std::chrono::milliseconds kDefaultDrainTimeout{10'000};
  static constexpr size_t kDefaultMaxIdlePerUpstream = 256;
  static constexpr size_t kDefaultMaxConnections = 10'000;
  static constexpr size_t kDefaultMaxConnectionsPerIp = 0;
  static constexpr size_t kDefaultMaxInflightPerRelease = 1'000;
  static constexpr std::chrono::seconds kDefaultRetryAfter{1};
  static constexpr std::chrono::milliseconds kDefaultTlsHandshakeTimeout{10'000};
  static constexpr std::chrono::milliseconds kDefaultUpgradedIdleTimeout{600'000};
  static constexpr std::chrono::milliseconds kDefaultUpgradeDrainTimeout{30'000};

  size_t max_header_bytes = kDefaultMaxHeaderBytes;      // request line + headers; over -> 431
  size_t max_body_bytes = kDefaultMaxBodyBytes;          // request body; over -> 413
  size_t max_response_bytes = kDefaultMaxResponseBytes;  // upstream response body, 0 = any; over -> 502
  // A body larger than 16 KiB, chunked or of unknown length is relayed through one buffer of this size
  // per connection (read a chunk, write it, read the next), so memory is bounded whatever the body size.
  size_t stream_buffer_bytes = kDefaultStreamBufferBytes;
  // A keep-alive client connection with no request started is closed after this.
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
  // Reading one request once its first byte arrived (slow-loris bound); over -> connection closed.
  std::chrono::milliseconds request_timeout = kDefaultRequestTimeout;
  std::chrono::milliseconds upstream_connect_timeout = kDefaultUpstreamConnectTimeout;  // over -> 504
  // Writing the request to and reading the whole response from the upstream; over -> 504.
  std::chrono::milliseconds upstream_timeout = kDefaultUpstreamTimeout;
  // stop(): in-flight requests get this long to finish before their connections are closed.
  std::chrono::milliseconds drain_timeout = kDefaultDrainTimeout;
  size_t max_idle_per_upstream =
      kDefaultMaxIdlePerUpstream;  // pooled idle connections per address per thread
  // Client connections open at once over all threads, 0 = no cap; over -> 503 + Retry-After, closed.
  size_t max_connections = kDefaultMaxConnections;
  // Client connections open at once from one IP address, 0 = no cap; over -> 503 + Retry-After, closed.
  size_t max_connections_per_ip = kDefaultMaxConnectionsPerIp;
  // Requests in flight to one release per proxy thread, 0 = no cap; over -> 503 + Retry-After: the
  // proxy sheds instead of piling requests onto a saturated release.
  size_t max_inflight_per_release = kDefaultMaxInflightPerRelease;
  std::chrono::seconds retry_after = kDefaultRetryAfter;  // the Retry-After of those 503s
  // A TLS handshake not finished within this: connection closed.
  std::chrono::milliseconds tls_handshake_timeout = kDefaultTlsHandshakeTimeout;
  // An upgraded connection (WebSocket) with no byte either way for this long: closed.
  std::chrono::milliseconds upgraded_idle_timeout = kDefaultUpgradedIdleTimeout;
  // After a route swap takes its release out of traffic, an upgraded connection lives at most this much
  // longer (it stays on its release meanwhile); back in traffic before then, it is kept.
  std::chrono::milliseconds upgrade_drain_timeout = kDefaultUpgradeDrainTimeout;
};

// One completed request, handed to the observer. The string_view lives only during the call.
struct RequestRecord {
  std::string_view release_id;  // empty when no upstream was chosen (503, 400, ...)
  int status = 0;
  uint64_t latency_us = 0;  // first request byte parsed to last response byte written
  uint64_t bytes_in = 0;    // request body bytes
  uint64_t bytes_out = 0;   // response body bytes
  bool upgraded = false;    // a 101: the connection became a tunnel to release_id (recorded once, at 101)
};

// Called on a proxy thread after each response is written; must be thread-safe when threads > 1 and
// cheap (record into a histogram). An empty observer costs nothing: no clock is read for it.
using RequestObserver = std::function<void(const RequestRecord&)>;

// What the proxy does with the X-Forwarded-For/-Proto/-Host (and Forwarded) headers a client sent.
enum class ClientForwarded {
  kDrop,    // the default: any client can write them, so they are removed and the proxy's own are set
  kAppend,  // behind a trusted proxy: the peer is appended to its X-Forwarded-For, its Proto/Host kept
};

struct ProxyOptions {
  std::string listen;  // "127.0.0.1:8080"; port 0 picks a free port (see Proxy::port())
  int threads = 1;     // io_context threads, each with its own sessions and upstream pool
  ProxyLimits limits{};
  RequestObserver observer{};
  ClientForwarded client_forwarded = ClientForwarded::kDrop;
  // Non-null: the listener speaks HTTPS with these certificates (docs/proxy.md, "TLS").
  std::shared_ptr<CertStore> tls{};
  // With tls: how often the store is asked whether its files changed; 0 = only reload_certificates().
  std::chrono::milliseconds tls_reload_interval{2'000};
  // Non-zero: a plain listener that answers every request 308 to https://<host>:<this port><target>
  // (the port left out when 443) and routes nothing.
  uint16_t redirect_https_port = 0;
};

class Proxy {
 public:
  // `routes` must outlive the Proxy; it may be swapped at any time from any thread.
  Proxy(ProxyOptions options, Routes& routes);
  ~Proxy();  // stop()s if still running
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Binds the listen address and starts the threads. A bind error names the address.
  Status start();
  // The bound port (useful after listening on port 0); 0 before start().
  uint16_t port() const;
  // Graceful: stops accepting, closes idle keep-alive connections, lets in-flight requests finish up to
  // limits.drain_timeout, then closes the rest and joins the threads. Idempotent. Not from a proxy
  // thread (the observer): it joins them.
  void stop();
  // Closes the idle pooled upstream connections to `release_id` on every thread now; ones in use are
  // closed when their request ends if the release no longer takes traffic. Call after a route swap.
  void drain(const std::string& release_id);
  // Re-reads the TLS certificates now (SIGHUP); open connections keep theirs, new handshakes get the new
  // ones. On failure the old certificates stay in use. Ok() on a plain listener.
  Status reload_certificates();

  struct Stats {
    uint64_t requests = 0;           // responses written
    uint64_t upstream_connects = 0;  // new upstream connections opened
    uint64_t stale_retries = 0;      // requests retried after a pooled connection turned out closed
    uint64_t pooled_idle = 0;        // idle upstream connections held now
    uint64_t shed = 0;               // requests answered 503 by a connection or in-flight cap
    uint64_t tls_handshakes = 0;     // completed
    uint64_t tls_failures = 0;       // refused or broken handshakes (a TLS 1.0 client, a plain client)
    uint64_t redirects = 0;          // 308s to HTTPS
    uint64_t upgrades = 0;           // connections upgraded (101) so far
    uint64_t upgraded_open = 0;      // upgraded connections open now
    std::map<std::string, uint64_t> upgraded_by_release{};  // open now, per release
  };
  // Counters summed over all threads (a consistent snapshot per thread, not across threads).
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:port" -> parts. IPv6 as "[::1]:80".
Result<std::pair<std::string, uint16_t>> split_host_port(std::string_view address);

}  // namespace villager::proxy
