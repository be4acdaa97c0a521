#pragma once
// Alert channels: webhook (JSON with a Slack-compatible `text`), Alertmanager API v2, command (a program
// run with the alert in its environment, VILLAGER_ALERT_*) and file (JSON lines). AlertDispatcher delivers on
// one background thread per channel, each with a bounded queue and retries with exponential backoff, so
// notify() never waits for a channel: a dead channel cannot delay a rollback.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"
#include "monitor/alarms.h"

namespace villager::monitor {

struct Alert {
  std::string alarm;
  std::string environment;
  std::string service;
  std::string release;
  std::string metric;
  std::string severity;
  std::string state;  // "firing" | "resolved"
  std::optional<double> value;
  double threshold = 0;
  std::string comparison = "above";
  SystemTime starts_at;  // when it started firing
  SystemTime at;         // this notification's time

  std::string text() const;     // one Slack-ready line
  std::string to_json() const;  // the webhook/file/command payload (includes `text`)
  std::string key() const;      // environment/service/alarm: identifies one alert over time
};

// The alert for a transition to firing or resolved; nullopt for other transitions (pending, ok).
// `starts_at` is the transition time for firing; callers keep it for the matching resolved.
std::optional<Alert> alert_for(const AlarmTransition& t);

class AlertChannel {
 public:
  virtual ~AlertChannel() = default;
  virtual std::string name() const = 0;  // "webhook http://host:port", with no path or secret
  // Delivers once; an error means "retry later".
  virtual Status send(const Alert& alert, SystemTime now) = 0;
  // Whether firing alerts must be re-sent periodically (Alertmanager: endsAt is pushed forward).
  virtual bool refreshes() const { return false; }
};

struct ChannelOptions {
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};
  static constexpr std::chrono::milliseconds kDefaultAlertmanagerHold{5 * 60 * 1000};
  std::chrono::milliseconds timeout = kDefaultTimeout;  // one delivery attempt
  // Alertmanager: a firing alert's endsAt is now + hold, refreshed well before it passes.
  std::chrono::milliseconds alertmanager_hold = kDefaultAlertmanagerHold;
};

Result<std::unique_ptr<AlertChannel>> make_channel(const config::AlertConfig& config,
                                                   const ChannelOptions& options = {});

struct DispatcherOptions {
  static constexpr size_t kDefaultMaxQueue = 256;
  size_t max_queue = kDefaultMaxQueue;  // per channel; when full the oldest waiting alert is dropped
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  // How often firing alerts are re-sent to refreshing channels (well under alertmanager_hold).
  std::chrono::milliseconds refresh_interval{60'000};
};

class AlertDispatcher {
 public:
  AlertDispatcher(std::vector<std::unique_ptr<AlertChannel>> channels, Clock& clock,
                  DispatcherOptions options = {});
  ~AlertDispatcher();  // stops the threads; undelivered alerts are dropped (logged)
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  // Queues the alert for every channel and returns at once.
  void notify(const Alert& alert);
  // Waits until every queue is empty and nothing is in flight, up to `timeout`; true when drained.
  bool flush(std::chrono::milliseconds timeout);

  struct Stats {
    uint64_t delivered = 0;
    uint64_t retries = 0;
    uint64_t gave_up = 0;  // deliveries abandoned after max_attempts
    uint64_t dropped = 0;  // pushed out of a full queue
  };
  Stats stats() const;

 private:
  struct Pending {
    Alert alert;
    int attempt = 0;
    std::chrono::steady_clock::time_point next_at;
  };
  struct Worker {
    std::unique_ptr<AlertChannel> channel;
    std::deque<Pending> queue;                           // Guarded by mu_.
    std::map<std::string, Alert> firing;                 // Guarded by mu_. Refreshing channels only.
    std::chrono::steady_clock::time_point next_refresh;  // Guarded by mu_.
    bool busy = false;                                   // Guarded by mu_.
    std::thread thread;
  };
  void run(Worker& w);

  Clock& clock_;
  DispatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // Guarded by mu_.
  Stats stats_;            // Guarded by mu_.
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace villager::monitor
