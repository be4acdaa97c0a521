#include "notify/notifier.h"

#include <algorithm>

#include "base/redact.h"
#include "notify/channel.h"

namespace villager::notify {

struct Notifier::Channel {
  config::NotifyConfig config;
  std::deque<PipelineEvent> queue;  // Guarded by Notifier::mu_.
  bool busy = false;                // Guarded by Notifier::mu_: a send or backoff is under way.
  std::thread worker;
};

Notifier::Notifier(std::vector<config::NotifyConfig> channels, NotifierOptions options, SendFn send)
    : options_(options), send_(send ? std::move(send) : SendFn(send_event)) {
  for (auto& c : channels) {
    auto ch = std::make_unique<Channel>();
    ch->config = std::move(c);
    channels_.push_back(std::move(ch));
  }
  for (auto& ch : channels_) ch->worker = std::thread([this, c = ch.get()] { work(*c); });
}

Notifier::~Notifier() {
  finish(exit_wait());
}

void Notifier::publish(const PipelineEvent& event) {
  std::lock_guard lock(mu_);
  if (finished_) return;
  for (auto& ch : channels_) {
    if (!channel_wants(ch->config, event)) continue;
    if (ch->queue.size() >= options_.max_queue) {
      failures_.push_back("dropped " + event.kind + " for " + channel_name(ch->config) + ": " +
                          std::to_string(options_.max_queue) + " events already waiting");
      continue;
    }
    ch->queue.push_back(event);
  }
  changed_.notify_all();
}

void Notifier::work(Channel& c) {
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [&] { return finished_ || !c.queue.empty(); });
    if (c.queue.empty() || abort_) break;  // finished with nothing left, or given up on
    PipelineEvent event = c.queue.front();
    c.queue.pop_front();
    c.busy = true;
    int attempts = is_failure_kind(event.kind) ? std::max(1, options_.max_attempts) : 1;
    auto backoff = options_.first_backoff;
    Status s = Ok();
    for (int i = 0; i < attempts && !abort_; ++i) {
      if (i > 0) {
        // Backoff waits on the condition so that finish() cuts it short.
        changed_.wait_for(lock, backoff, [&] { return abort_.load(); });
        if (abort_) break;
        backoff = std::min(backoff * 2, options_.max_backoff);
      }
      lock.unlock();
      s = send_(c.config, event, &abort_);
      lock.lock();
      if (s.ok()) break;
    }
    if (s.ok() && !abort_) {
      ++delivered_;
    } else {
      failures_.push_back(s.ok() ? "gave up sending " + event.kind + " to " + channel_name(c.config)
                                 : redact(s.error().message));
    }
    c.busy = false;
    changed_.notify_all();
  }
  // Whatever was not sent is recorded, never silently lost.
  for (const auto& e : c.queue)
    failures_.push_back("not sent " + e.kind + " to " + channel_name(c.config) + ": exiting");
  c.queue.clear();
}

void Notifier::finish(std::chrono::milliseconds limit) {
  {
    std::unique_lock lock(mu_);
    if (!finished_) {
      finished_ = true;
      changed_.notify_all();
      auto idle = [&] {
        return std::all_of(channels_.begin(), channels_.end(),
                           [](const auto& c) { return c->queue.empty() && !c->busy; });
      };
      if (!changed_.wait_for(lock, limit, idle)) abort_ = true;
      changed_.notify_all();
    }
  }
  for (auto& ch : channels_)
    if (ch->worker.joinable()) ch->worker.join();
}

std::chrono::milliseconds Notifier::exit_wait() const {
  std::chrono::milliseconds out{0};
  for (const auto& ch : channels_) out = std::max(out, std::chrono::milliseconds(ch->config.timeout));
  return out;
}

std::vector<std::string> Notifier::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

size_t Notifier::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

}  // namespace villager::notify
