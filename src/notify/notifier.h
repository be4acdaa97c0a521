#pragma once
// Notifier: routes pipeline events to the [[notify]] channels that want them, each channel on its own
// background thread with a bounded queue, so the caller (a deploy, a rollback) is never blocked or
// delayed. Events reach a channel in the order published. Failure kinds (gate_refused, smoke_failed,
// rolled_back, rollback_failed, deploy_failed) are retried with backoff; every send that finally fails,
// and every event dropped on a full queue, is recorded in failures(). finish(limit) waits at most `limit`
// for pending sends, then abandons them: a dead channel costs an exiting CLI at most that.
//
//   notify::Notifier n(config.notify);
//   hooks.notify = [&n](const notify::PipelineEvent& e) { n.publish(e); };
//   ... deploy ...
//   n.finish(n.exit_wait());
//   for (auto& f : n.failures()) audit("notify.failed", f);

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "config/config.h"
#include "notify/event.h"

namespace villager::notify {

struct NotifierOptions {
  size_t max_queue = 256;  // per channel; more pending events are dropped (and recorded)
  int max_attempts = 4;    // for failure kinds; other kinds are sent once
  std::chrono::milliseconds first_backoff{250};  // doubled after each failed attempt
  std::chrono::milliseconds max_backoff{2000};
};

class Notifier {
 public:
  // Sends one event to one channel; `abort` turns true when finish() gives up. Replaceable for tests.
  using SendFn = std::function<Status(const config::NotifyConfig&, const PipelineEvent&,
                                      const std::atomic<bool>* abort)>;

  explicit Notifier(std::vector<config::NotifyConfig> channels, NotifierOptions options = {},
                    SendFn send = nullptr);
  // Calls finish(exit_wait()).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues the event for every channel that wants it and returns at once. Thread-safe.
  void publish(const PipelineEvent& event);

  // Waits until every queue is empty or `limit` passed, then stops the workers (an in-flight webhook send
  // is aborted). Later publish() calls are ignored. Idempotent.
  void finish(std::chrono::milliseconds limit);

  // The largest configured channel timeout: how long an exiting CLI waits for pending sends.
  std::chrono::milliseconds exit_wait() const;

  // "sending rolled_back to webhook http://...: connection refused", one per undelivered event.
  std::vector<std::string> failures() const;
  // Events delivered, over all channels.
  size_t delivered() const;

 private:
  struct Channel;
  void work(Channel& c);

  NotifierOptions options_;
  SendFn send_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::atomic<bool> abort_{false};
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool finished_ = false;              // Guarded by mu_.
  std::vector<std::string> failures_;  // Guarded by mu_.
  size_t delivered_ = 0;               // Guarded by mu_.
};

}  // namespace villager::notify
