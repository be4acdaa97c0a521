#include "monitor/alert.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/log.h"
#include "base/subprocess.h"
#include "net/http.h"

namespace villager::monitor {

namespace {

using json = nlohmann::json;

std::string format_value(std::optional<double> v) {
  if (!v) return "no data";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", *v);
  return buf;
}

// "http://host:port" of a URL: channel names and errors must not show a path (Slack puts its secret
// there) or credentials.
std::string url_origin(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find('/', start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = host.rfind('@');
  if (at != std::string::npos) host = host.substr(at + 1);
  return url.substr(0, start) + host;
}

// A channel's answer is read only to report it; anything longer is cut.
constexpr size_t kMaxAnswerBytes = 4096;

Result<net::HttpResponse> post_json(const std::string& url, std::string body,
                                    std::chrono::milliseconds timeout) {
  net::HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::move(body);
  req.timeout = timeout;
  req.direct = true;
  req.max_body = kMaxAnswerBytes;
  req.truncate_body = true;
  return net::http_send(req);
}

class WebhookChannel : public AlertChannel {
 public:
  WebhookChannel(std::string url, ChannelOptions o) : url_(std::move(url)), o_(o) {}
  std::string name() const override { return "webhook " + url_origin(url_); }
  Status send(const Alert& a, SystemTime) override {
    auto r = post_json(url_, a.to_json(), o_.timeout);
    if (!r)
      return Unavailable(name() + ": " + (r.error().code == Code::kTimeout ? "timed out" : "unreachable"));
    if (r->status < 200 || r->status > 299)
      return Unavailable(name() + ": status " + std::to_string(r->status));
    return Ok();
  }

 private:
  std::string url_;
  ChannelOptions o_;
};

class AlertmanagerChannel : public AlertChannel {
 public:
  AlertmanagerChannel(std::string url, ChannelOptions o) : o_(o) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    url_ = url.ends_with("/api/v2/alerts") ? url : url + "/api/v2/alerts";
  }
  std::string name() const override { return "alertmanager " + url_origin(url_); }
  bool refreshes() const override { return true; }
  Status send(const Alert& a, SystemTime now) override {
    // While firing, endsAt lies `hold` ahead and is pushed forward by each refresh, so Alertmanager never
    // resolves the alert on its own; resolving sets endsAt to now.
    SystemTime ends = a.state == "firing" ? now + o_.alertmanager_hold : now;
    json labels = {{"alertname", a.alarm},   {"environment", a.environment}, {"service", a.service},
                   {"severity", a.severity}, {"metric", a.metric},           {"source", "villager"}};
    if (!a.release.empty()) labels["release"] = a.release;
    json body = json::array({{{"labels", labels},
                              {"annotations",
                               {{"summary", a.text()},
                                {"value", format_value(a.value)},
                                {"threshold", format_value(a.threshold)}}},
                              {"startsAt", format_rfc3339(a.starts_at)},
                              {"endsAt", format_rfc3339(ends)}}});
    auto r = post_json(url_, body.dump(), o_.timeout);
    if (!r)
      return Unavailable(name() + ": " + (r.error().code == Code::kTimeout ? "timed out" : "unreachable"));
    if (r->status != 200)
      return Unavailable(name() + ": status " + std::to_string(r->status) + ": " + r->body);
    return Ok();
  }

 private:
  std::string url_;
  ChannelOptions o_;
};

class CommandChannel : public AlertChannel {
 public:
  CommandChannel(std::vector<std::string> argv, ChannelOptions o) : argv_(std::move(argv)), o_(o) {}
  std::string name() const override { return "command " + argv_[0]; }
  Status send(const Alert& a, SystemTime) override {
    RunOptions ro;
    ro.timeout = o_.timeout;
    ro.env_add = {{"VILLAGER_ALERT_ALARM", a.alarm},
                  {"VILLAGER_ALERT_ENVIRONMENT", a.environment},
                  {"VILLAGER_ALERT_SERVICE", a.service},
                  {"VILLAGER_ALERT_RELEASE", a.release},
                  {"VILLAGER_ALERT_METRIC", a.metric},
                  {"VILLAGER_ALERT_SEVERITY", a.severity},
                  {"VILLAGER_ALERT_STATE", a.state},
                  {"VILLAGER_ALERT_VALUE", a.value ? format_value(a.value) : ""},
                  {"VILLAGER_ALERT_THRESHOLD", format_value(a.threshold)},
                  {"VILLAGER_ALERT_TEXT", a.text()},
                  {"VILLAGER_ALERT_JSON", a.to_json()}};
    auto r = run_process(argv_, ro);
    if (!r) return Unavailable(name() + ": " + r.error().message);
    if (r->timed_out) return Timeout(name() + ": timed out");
    if (r->exit_code != 0) return Unavailable(name() + ": exit " + std::to_string(r->exit_code));
    return Ok();
  }

 private:
  std::vector<std::string> argv_;
  ChannelOptions o_;
};

class FileChannel : public AlertChannel {
 public:
  explicit FileChannel(std::string path) : path_(std::move(path)) {}
  std::string name() const override { return "file " + path_; }
  Status send(const Alert& a, SystemTime) override {
    if (auto s = append_file(path_, a.to_json() + "\n"); !s.ok())
      return Unavailable(name() + ": " + s.error().message);
    return Ok();
  }

 private:
  std::string path_;
};

}  // namespace

std::string Alert::text() const {
  std::string icon =
      state == "firing" ? (severity == "critical" ? ":rotating_light:" : ":warning:") : ":white_check_mark:";
  std::string s = icon + " [" + (state == "firing" ? std::string("FIRING") : std::string("RESOLVED")) + "] " +
                  alarm + " on " + environment + "/" + service;
  if (!release.empty()) s += " (release " + release + ")";
  s += ": " + metric + " " + format_value(value) + (comparison == "below" ? " < " : " > ") +
       format_value(threshold) + " [" + severity + "]";
  return s;
}

std::string Alert::to_json() const {
  json j = {{"alarm", alarm},           {"environment", environment},
            {"service", service},       {"release", release},
            {"metric", metric},         {"severity", severity},
            {"state", state},           {"value", value ? json(*value) : json(nullptr)},
            {"threshold", threshold},   {"starts_at", format_rfc3339(starts_at)},
            {"at", format_rfc3339(at)}, {"text", text()}};
  return j.dump();
}

std::string Alert::key() const {
  return environment + "/" + service + "/" + alarm;
}

std::optional<Alert> alert_for(const AlarmTransition& t) {
  if (t.to != AlarmState::kFiring && t.to != AlarmState::kResolved) return std::nullopt;
  Alert a;
  a.alarm = t.alarm.name;
  a.environment = t.environment;
  a.service = t.service;
  a.release = t.release;
  a.metric = t.alarm.metric;
  a.severity = t.alarm.severity;
  a.state = std::string(to_string(t.to));
  a.value = t.value;
  a.threshold = t.alarm.threshold;
  a.comparison = t.alarm.comparison;
  a.starts_at = t.at;
  a.at = t.at;
  return a;
}

Result<std::unique_ptr<AlertChannel>> make_channel(const config::AlertConfig& c, const ChannelOptions& o) {
  if (c.type == "webhook" && !c.url.empty())
    return std::unique_ptr<AlertChannel>(new WebhookChannel(c.url, o));
  if (c.type == "alertmanager" && !c.url.empty())
    return std::unique_ptr<AlertChannel>(new AlertmanagerChannel(c.url, o));
  if (c.type == "command" && !c.command.empty())
    return std::unique_ptr<AlertChannel>(new CommandChannel(c.command, o));
  if (c.type == "file" && !c.path.empty()) return std::unique_ptr<AlertChannel>(new FileChannel(c.path));
  return InvalidArgument("alert channel of type '" + c.type + "' is missing its url, command or path");
}

AlertDispatcher::AlertDispatcher(std::vector<std::unique_ptr<AlertChannel>> channels, Clock& clock,
                                 DispatcherOptions options)
    : clock_(clock), options_(options) {
  for (auto& c : channels) {
    auto w = std::make_unique<Worker>();
    w->channel = std::move(c);
    w->next_refresh = std::chrono::steady_clock::now() + options_.refresh_interval;
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) w->thread = std::thread([this, wp = w.get()] { run(*wp); });
}

AlertDispatcher::~AlertDispatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
    if (!w->queue.empty())
      log_event(LogLevel::kWarn, "alert", "undelivered",
                {{"channel", w->channel->name()}, {"count", std::to_string(w->queue.size())}});
  }
}

void AlertDispatcher::notify(const Alert& alert) {
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto& w : workers_) {
      if (w->queue.size() >= options_.max_queue) {
        w->queue.pop_front();
        ++stats_.dropped;
      }
      w->queue.push_back({alert, 0, now});
      if (w->channel->refreshes()) {
        if (alert.state == "firing")
          w->firing[alert.key()] = alert;
        else
          w->firing.erase(alert.key());
      }
    }
  }
  cv_.notify_all();
}

void AlertDispatcher::run(Worker& w) {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    if (w.queue.empty() && !w.firing.empty() && now >= w.next_refresh) {
      for (auto& [key, a] : w.firing) w.queue.push_back({a, 0, now});
      w.next_refresh = now + options_.refresh_interval;
    }
    if (w.queue.empty() || w.queue.front().next_at > now) {
      auto until = w.queue.empty() ? now + options_.refresh_interval : w.queue.front().next_at;
      if (!w.firing.empty()) until = std::min(until, w.next_refresh);
      cv_.wait_until(lock, until);
      continue;
    }
    Pending p = w.queue.front();
    w.queue.pop_front();
    w.busy = true;
    lock.unlock();
    // The delivery runs without the lock: notify() must never wait for a channel.
    Status s = w.channel->send(p.alert, clock_.now());
    lock.lock();
    w.busy = false;
    if (s.ok()) {
      ++stats_.delivered;
    } else if (p.attempt + 1 >= options_.max_attempts) {
      ++stats_.gave_up;
      log_event(LogLevel::kError, "alert", "gave_up",
                {{"channel", w.channel->name()}, {"alarm", p.alert.alarm}, {"error", s.error().message}});
    } else {
      ++stats_.retries;
      auto backoff = options_.initial_backoff * (1 << std::min(p.attempt, 16));
      if (backoff > options_.max_backoff) backoff = options_.max_backoff;
      p.attempt++;
      p.next_at = std::chrono::steady_clock::now() + backoff;
      log_event(LogLevel::kWarn, "alert", "retry",
                {{"channel", w.channel->name()},
                 {"attempt", std::to_string(p.attempt)},
                 {"error", s.error().message}});
      // Back in front: a channel delivers its alerts in order.
      w.queue.push_front(std::move(p));
    }
    cv_.notify_all();
  }
}

bool AlertDispatcher::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    for (auto& w : workers_)
      if (!w->queue.empty() || w->busy) return false;
    return true;
  });
}

AlertDispatcher::Stats AlertDispatcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace villager::monitor
