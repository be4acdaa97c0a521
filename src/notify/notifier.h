#pragma once
// Notifier: the one delivery path. It routes messages (pipeline events and alerts) to the channels that
// want them, each channel on its own background thread with a bounded queue, so the caller (a deploy, a
// rollback, the agent's alarm loop) is never blocked or delayed. A channel gets its messages in the order
// published. Failure kinds (gate_refused, smoke_failed, rolled_back, rollback_failed, deploy_failed) and
// alerts are retried with backoff; every send that finally fails, and every message pushed out of a full
// queue, is recorded in failures() and counted in stats(). Firing alerts are re-sent every
// refresh_interval to channels that need it (Alertmanager). finish(limit) waits at most `limit` for
// pending sends, then abandons them: a dead channel costs an exiting CLI at most that.
//
//   notify::Notifier n(config.notify);
//   hooks.notify = [&n](const notify::PipelineEvent& e) { n.publish(e); };
//   ... deploy ...
//   n.finish(n.exit_wait());
//   for (auto& f : n.failures()) audit("notify.failed", f);

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"
#include "notify/channel.h"

namespace villager::notify {

struct NotifierOptions {
  size_t max_queue = 256;  // per channel; when full the oldest waiting message is dropped (and recorded)
  int max_attempts = 4;    // failure kinds and alerts; other kinds are sent once
  std::chrono::milliseconds first_backoff{250};  // doubled after each failed attempt
  std::chrono::milliseconds max_backoff{2000};
  // How often firing alerts are re-sent to refreshing channels (well under the Alertmanager hold).
  std::chrono::milliseconds refresh_interval{60'000};
  bool log_failures = false;  // also log each retry and failure (the agent: no one reads failures())
};

class Notifier {
 public:
  // One channel and the entry that says what it wants.
  using Route = std::pair<config::NotifyConfig, std::unique_ptr<Channel>>;

  // Channels made from the entries (make_channel).
  explicit Notifier(std::vector<config::NotifyConfig> channels, NotifierOptions options = {},
                    Clock& clock = real_clock());
  // Channels the caller made: how tests put a recording channel in.
  Notifier(std::vector<Route> routes, NotifierOptions options, Clock& clock = real_clock());
  // Calls finish(exit_wait()).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues the message for every channel that wants it and returns at once. Thread-safe.
  void publish(const Message& message);

  // Waits until every queue is empty and nothing is in flight, up to `limit`; true when drained.
  bool flush(std::chrono::milliseconds limit);

  // Waits until every queue is empty or `limit` passed, then stops the workers (an in-flight webhook send
  // is aborted). Later publish() calls are ignored. Idempotent.
  void finish(std::chrono::milliseconds limit);

  // The largest configured channel timeout: how long an exiting CLI waits for pending sends.
  std::chrono::milliseconds exit_wait() const;

  // "sending rolled_back to webhook http://...: connection refused", one per undelivered message.
  std::vector<std::string> failures() const;

  struct Stats {
    uint64_t delivered = 0;
    uint64_t retries = 0;
    uint64_t gave_up = 0;  // sends abandoned after their attempts (or at finish)
    uint64_t dropped = 0;  // pushed out of a full queue
  };
  Stats stats() const;
  size_t delivered() const { return stats().delivered; }

 private:
  struct Worker;
  void work(Worker& w);
  bool idle() const;                      // Requires mu_.
  void record_failure(std::string line);  // Requires mu_.
  Status send_with_retries(Worker& w, const Message& m, std::unique_lock<std::mutex>& lock);

  NotifierOptions options_;
  Clock& clock_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> abort_{false};
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool finished_ = false;              // Guarded by mu_.
  std::vector<std::string> failures_;  // Guarded by mu_.
  Stats stats_;                        // Guarded by mu_.
};

}  // namespace villager::notify
