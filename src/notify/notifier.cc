#include "notify/notifier.h"

#include <algorithm>
#include <deque>
#include <map>
#include <thread>

#include "base/log.h"
#include "base/redact.h"

namespace villager::notify {

namespace {

// failures() keeps the latest this many lines: a long-running agent must not grow without bound.
constexpr size_t kMaxFailureLines = 1000;

bool retried(const Message& m) {
  if (std::holds_alternative<Alert>(m)) return true;
  return is_failure_kind(std::get<PipelineEvent>(m).kind);
}

}  // namespace

struct Notifier::Worker {
  config::NotifyConfig config;
  std::unique_ptr<Channel> channel;
  std::deque<Message> queue;                           // Guarded by Notifier::mu_.
  std::map<std::string, Alert> firing;                 // Guarded by Notifier::mu_. Refreshing channels.
  std::chrono::steady_clock::time_point next_refresh;  // Guarded by Notifier::mu_.
  bool busy = false;  // Guarded by Notifier::mu_: a send or its backoff is under way.
  std::thread thread;
};

Notifier::Notifier(std::vector<config::NotifyConfig> channels, NotifierOptions options, Clock& clock)
    : Notifier(
          [&] {
            std::vector<Route> routes;
            for (auto& c : channels) {
              auto ch = make_channel(c);
              routes.emplace_back(std::move(c), std::move(ch));
            }
            return routes;
          }(),
          options, clock) {}

Notifier::Notifier(std::vector<Route> routes, NotifierOptions options, Clock& clock)
    : options_(options), clock_(clock) {
  for (auto& [config, channel] : routes) {
    auto w = std::make_unique<Worker>();
    w->config = std::move(config);
    w->channel = std::move(channel);
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) w->thread = std::thread([this, wp = w.get()] { work(*wp); });
}

Notifier::~Notifier() {
  finish(exit_wait());
}

void Notifier::record_failure(std::string line) {
  line = redact(line);
  if (options_.log_failures) log_event(LogLevel::kWarn, "notify", "undelivered", {{"error", line}});
  if (failures_.size() >= kMaxFailureLines) failures_.erase(failures_.begin());
  failures_.push_back(std::move(line));
}

void Notifier::publish(const Message& message) {
  std::lock_guard lock(mu_);
  if (finished_) return;
  for (auto& w : workers_) {
    if (!channel_wants(w->config, message)) continue;
    if (const auto* a = std::get_if<Alert>(&message); a && w->channel->refreshes()) {
      if (w->firing.empty()) w->next_refresh = std::chrono::steady_clock::now() + options_.refresh_interval;
      if (a->state == "firing")
        w->firing[a->key()] = *a;
      else
        w->firing.erase(a->key());
    }
    if (w->queue.size() >= std::max<size_t>(1, options_.max_queue)) {
      ++stats_.dropped;
      record_failure("dropped " + message_label(w->queue.front()) + " for " + w->channel->name() + ": " +
                     std::to_string(options_.max_queue) + " messages already waiting");
      w->queue.pop_front();
    }
    w->queue.push_back(message);
  }
  changed_.notify_all();
}

Status Notifier::send_with_retries(Worker& w, const Message& m, std::unique_lock<std::mutex>& lock) {
  int attempts = retried(m) ? std::max(1, options_.max_attempts) : 1;
  auto backoff = options_.first_backoff;
  Status s = Ok();
  for (int i = 0; i < attempts && !abort_; ++i) {
    if (i > 0) {
      ++stats_.retries;
      if (options_.log_failures)
        log_event(LogLevel::kWarn, "notify", "retry",
                  {{"channel", w.channel->name()},
                   {"attempt", std::to_string(i + 1)},
                   {"error", redact(s.error().message)}});
      // Backoff waits on the condition so that finish() cuts it short.
      changed_.wait_for(lock, backoff, [&] { return abort_.load(); });
      if (abort_) break;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    // The send runs without the lock: publish() must never wait for a channel.
    lock.unlock();
    s = w.channel->send(m, clock_.now(), &abort_);
    lock.lock();
    if (s.ok()) break;
  }
  return s;
}

void Notifier::work(Worker& w) {
  std::unique_lock lock(mu_);
  auto refresh_due = [&] { return !w.firing.empty() && std::chrono::steady_clock::now() >= w.next_refresh; };
  auto wake = [&] { return finished_ || !w.queue.empty() || refresh_due(); };
  while (true) {
    if (w.firing.empty())
      changed_.wait(lock, wake);
    else
      changed_.wait_until(lock, w.next_refresh, wake);
    if (abort_) break;
    if (w.queue.empty()) {
      if (finished_) break;  // finished with nothing left
      if (!refresh_due()) continue;
      for (const auto& [key, alert] : w.firing) w.queue.push_back(alert);
      w.next_refresh = std::chrono::steady_clock::now() + options_.refresh_interval;
    }
    Message m = std::move(w.queue.front());
    w.queue.pop_front();
    w.busy = true;
    Status s = send_with_retries(w, m, lock);
    if (s.ok() && !abort_) {
      ++stats_.delivered;
    } else {
      ++stats_.gave_up;
      std::string why = s.ok() ? "gave up: the process is exiting" : s.error().message;
      record_failure("sending " + message_label(m) + " to " + w.channel->name() + ": " + why);
    }
    w.busy = false;
    changed_.notify_all();
  }
  // Whatever was not sent is recorded, never silently lost.
  for (const auto& m : w.queue)
    record_failure("not sent " + message_label(m) + " to " + w.channel->name() + ": exiting");
  w.queue.clear();
}

bool Notifier::idle() const {
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const auto& w) { return w->queue.empty() && !w->busy; });
}

bool Notifier::flush(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, limit, [&] { return idle(); });
}

void Notifier::finish(std::chrono::milliseconds limit) {
  {
    std::unique_lock lock(mu_);
    if (!finished_) {
      finished_ = true;
      changed_.notify_all();
      if (!changed_.wait_for(lock, limit, [&] { return idle(); })) abort_ = true;
      changed_.notify_all();
    }
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

std::chrono::milliseconds Notifier::exit_wait() const {
  std::chrono::milliseconds out{0};
  for (const auto& w : workers_) out = std::max(out, std::chrono::milliseconds(w->config.timeout));
  return out;
}

std::vector<std::string> Notifier::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

Notifier::Stats Notifier::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace villager::notify
