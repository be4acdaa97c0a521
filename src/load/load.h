#pragma once
// The load generator. run_load() drives HTTP/1.1 keep-alive requests at a URL from several threads
// (one Asio io_context each, connections spread across them) and returns what happened:
// - open model (rate > 0): every connection sends on a fixed schedule at rate/connections, and latency
//   is measured from the time a request was *due*, so a stalled server shows in the percentiles
//   (coordinated-omission correction, as wrk2); the latency from the actual send is kept too;
// - closed model (rate == 0): each connection sends its next request as soon as the last one answered.
// A run is always bounded: by duration (required, at most kMaxDuration) and optionally a request cap.
// Memory is fixed: per-thread histograms merged at the end, never a list of samples.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "load/url.h"
#include "stats/histogram.h"

namespace villager::load {

inline constexpr std::chrono::milliseconds kDefaultDuration{10'000};
inline constexpr std::chrono::milliseconds kMaxDuration{3'600'000};
inline constexpr std::chrono::milliseconds kDefaultTimeout{2'000};
inline constexpr int kMaxConnections = 10'000;
inline constexpr int kMaxThreads = 256;
inline constexpr double kMaxRate = 10'000'000;

struct LoadOptions {
  Url url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given; Host added unless present
  std::string body;                                          // sent with Content-Length when non-empty
  double rate = 0;                                           // requests/s in total; 0 = closed model
  std::chrono::milliseconds duration = kDefaultDuration;
  int connections = 10;
  int threads = 2;
  std::chrono::milliseconds timeout = kDefaultTimeout;  // per request, from its send
  uint64_t max_requests = 0;                            // 0 = no cap besides the duration
};

// Totals while a run is going, for a progress line.
struct Progress {
  double elapsed_s = 0;
  uint64_t responses = 0;
  uint64_t errors = 0;
};

struct SocketErrors {
  uint64_t connect = 0;
  uint64_t read = 0;  // includes a connection closed mid-request and a malformed response
  uint64_t write = 0;
  uint64_t timeout = 0;
  uint64_t total() const { return connect + read + write + timeout; }
};

// Above this p99 send lag the open-model schedule was not kept by the generator itself.
inline constexpr uint64_t kMaxSendLagUs = 5'000;

struct LoadReport {
  bool open_model = false;
  double target_rate = 0;  // open model only
  int threads = 0;
  int connections = 0;
  double duration_s = 0;   // the run's measured length
  uint64_t responses = 0;  // complete responses, any status
  uint64_t bytes_read = 0;
  uint64_t reconnects = 0;  // connections reopened after the server closed them (Connection: close)
  std::array<uint64_t, 600> status_counts{};  // by status code
  SocketErrors errors;
  // Latency of every complete response, microseconds. Open model: from the time the request was due
  // (corrected); closed model: from the send (the two histograms are then identical).
  stats::Histogram latency;
  stats::Histogram uncorrected;  // open model: from the actual send
  double generator_cpu = 0;      // busiest generator thread's CPU time / wall time, 0..1
  // Open model: how late each request left after its due time when its connection was idle waiting
  // for it. The server plays no part in this delay: it measures the generator and the machine.
  stats::Histogram send_lag;

  double achieved_rate() const { return duration_s > 0 ? static_cast<double>(responses) / duration_s : 0; }
  uint64_t non_2xx_3xx() const;
  // (responses with status >= 400 or < 200, plus socket errors) / (responses + socket errors).
  double error_rate() const;
  bool rate_reached() const { return !open_model || achieved_rate() >= 0.99 * target_rate; }
  // True when a generator thread was busy nearly all the time: the figures then describe villager's
  // limits as much as the server's.
  bool generator_saturated() const { return generator_cpu >= 0.9; }
  // Open model: p99 send lag above kMaxSendLagUs, i.e. the schedule slipped on the generator's side
  // (CPU-bound generator or a busy machine).
  bool schedule_slipped() const { return open_model && send_lag.percentile(0.99) > kMaxSendLagUs; }
};

// Checks the options (InvalidArgument with the reason), resolves the host (Unavailable on failure) and
// runs. `on_progress`, when set, is called on the calling thread about once a second.
Result<LoadReport> run_load(const LoadOptions& options,
                            const std::function<void(const Progress&)>& on_progress = nullptr);

// The request bytes every connection sends (exposed for tests).
std::string build_request(const LoadOptions& options);

}  // namespace villager::load
