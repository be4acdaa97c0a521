#include "notify/channel.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/redact.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "net/http.h"
#include "net/url.h"

namespace villager::notify {

namespace {

using json = nlohmann::json;

// A channel's answer is read only to report it; anything longer is cut.
constexpr size_t kMaxAnswerBytes = 4096;

bool listed(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string message_json(const Message& m) {
  if (const auto* a = std::get_if<Alert>(&m)) return a->to_json();
  return event_json(std::get<PipelineEvent>(m));
}

Status post_json(const std::string& url, std::string body, std::chrono::milliseconds timeout,
                 const std::atomic<bool>* abort, int only_status = 0) {
  net::HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::move(body);
  req.timeout = timeout;
  req.direct = true;
  req.max_body = kMaxAnswerBytes;
  req.truncate_body = true;
  req.abort = abort;
  auto r = net::http_send(req);
  if (!r) {
    if (r.error().code == Code::kTimeout) {
      if (abort && abort->load()) return Timeout("gave up: the process is exiting");
      return Timeout("no answer within " + format_duration(timeout));
    }
    // The channel's name already leads the message; keep only curl's reason.
    const std::string& m = r.error().message;
    size_t colon = m.find(": ");
    return Unavailable(colon == std::string::npos ? m : m.substr(colon + 2));
  }
  bool fine = only_status ? r->status == only_status : r->status >= 200 && r->status <= 299;
  if (!fine) return Unavailable("HTTP " + std::to_string(r->status) + ": " + redact(r->body.substr(0, 200)));
  return Ok();
}

class WebhookChannel : public Channel {
 public:
  explicit WebhookChannel(config::NotifyConfig c) : c_(std::move(c)) {}
  std::string name() const override { return channel_name(c_); }
  Status send(const Message& m, SystemTime, const std::atomic<bool>* abort) override {
    return post_json(c_.url, message_json(m), c_.timeout, abort);
  }

 private:
  config::NotifyConfig c_;
};

class AlertmanagerChannel : public Channel {
 public:
  AlertmanagerChannel(config::NotifyConfig c, ChannelOptions o) : c_(std::move(c)), o_(o) {
    url_ = c_.url;
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    if (!url_.ends_with("/api/v2/alerts")) url_ += "/api/v2/alerts";
  }
  std::string name() const override { return channel_name(c_); }
  bool refreshes() const override { return true; }
  Status send(const Message& m, SystemTime now, const std::atomic<bool>* abort) override {
    const auto* a = std::get_if<Alert>(&m);
    if (!a) return InvalidArgument("an alertmanager channel carries alerts only");
    // While firing, endsAt lies `hold` ahead and is pushed forward by each refresh, so Alertmanager never
    // resolves the alert on its own; resolving sets endsAt to now.
    SystemTime ends = a->state == "firing" ? now + o_.alertmanager_hold : now;
    json labels = {{"alertname", a->alarm},   {"environment", a->environment}, {"service", a->service},
                   {"severity", a->severity}, {"metric", a->metric},           {"source", "villager"}};
    if (!a->release.empty()) labels["release"] = a->release;
    json body = json::array({{{"labels", labels},
                              {"annotations",
                               {{"summary", a->text()},
                                {"value", format_alert_value(a->value)},
                                {"threshold", format_alert_value(a->threshold)}}},
                              {"startsAt", format_rfc3339(a->starts_at)},
                              {"endsAt", format_rfc3339(ends)}}});
    return post_json(url_, body.dump(), c_.timeout, abort, 200);
  }

 private:
  config::NotifyConfig c_;
  ChannelOptions o_;
  std::string url_;
};

std::map<std::string, std::string> alert_environment(const Alert& a) {
  return {{"VILLAGER_EVENT", std::string(kAlert)},
          {"VILLAGER_ALERT_ALARM", a.alarm},
          {"VILLAGER_ALERT_ENVIRONMENT", a.environment},
          {"VILLAGER_ALERT_SERVICE", a.service},
          {"VILLAGER_ALERT_RELEASE", a.release},
          {"VILLAGER_ALERT_METRIC", a.metric},
          {"VILLAGER_ALERT_SEVERITY", a.severity},
          {"VILLAGER_ALERT_STATE", a.state},
          {"VILLAGER_ALERT_VALUE", a.value ? format_alert_value(a.value) : ""},
          {"VILLAGER_ALERT_THRESHOLD", format_alert_value(a.threshold)},
          {"VILLAGER_ALERT_TEXT", a.text()},
          {"VILLAGER_ALERT_JSON", a.to_json()}};
}

class CommandChannel : public Channel {
 public:
  explicit CommandChannel(config::NotifyConfig c) : c_(std::move(c)) {}
  std::string name() const override { return channel_name(c_); }
  Status send(const Message& m, SystemTime, const std::atomic<bool>*) override {
    RunOptions opts;
    opts.stdin_data = message_json(m);
    if (const auto* a = std::get_if<Alert>(&m))
      for (auto& [k, v] : alert_environment(*a)) opts.env_add[k] = v;
    else
      opts.env_add["VILLAGER_EVENT"] = std::get<PipelineEvent>(m).kind;
    opts.timeout = c_.timeout;
    auto r = run_process(c_.command, opts);
    if (!r) return r.error();
    if (r->timed_out) return Timeout("still running after " + format_duration(c_.timeout));
    if (r->exit_code != 0)
      return Unavailable("exited with " + std::to_string(r->exit_code) + ": " + redact(trim(r->err)));
    return Ok();
  }

 private:
  config::NotifyConfig c_;
};

class FileChannel : public Channel {
 public:
  explicit FileChannel(config::NotifyConfig c) : c_(std::move(c)) {}
  std::string name() const override { return channel_name(c_); }
  Status send(const Message& m, SystemTime, const std::atomic<bool>*) override {
    return append_file(c_.path, message_json(m) + "\n", fs::perms(0600));
  }

 private:
  config::NotifyConfig c_;
};

}  // namespace

std::string message_label(const Message& m) {
  if (const auto* a = std::get_if<Alert>(&m)) return "alert " + a->alarm + " " + a->state;
  return std::get<PipelineEvent>(m).kind;
}

bool channel_wants(const config::NotifyConfig& channel, const Message& m) {
  const std::string& env = std::visit([](const auto& x) -> const std::string& { return x.environment; }, m);
  if (!channel.environments.empty() && !listed(channel.environments, env)) return false;
  if (std::holds_alternative<Alert>(m)) return listed(channel.events, kAlert);
  if (channel.type == config::ChannelType::kAlertmanager) return false;
  const std::string& kind = std::get<PipelineEvent>(m).kind;
  if (channel.events.empty()) return true;
  return listed(channel.events, kind);
}

std::string channel_name(const config::NotifyConfig& channel) {
  using config::ChannelType;
  std::string where = channel.type == ChannelType::kCommand ? join(channel.command, " ")
                      : channel.type == ChannelType::kFile  ? channel.path
                                                            : net::url_origin(channel.url);
  return redact(std::string(config::channel_type_name(channel.type)) + " " + where);
}

std::unique_ptr<Channel> make_channel(const config::NotifyConfig& c, const ChannelOptions& o) {
  switch (c.type) {
    case config::ChannelType::kWebhook:
      return std::make_unique<WebhookChannel>(c);
    case config::ChannelType::kAlertmanager:
      return std::make_unique<AlertmanagerChannel>(c, o);
    case config::ChannelType::kCommand:
      return std::make_unique<CommandChannel>(c);
    case config::ChannelType::kFile:
      return std::make_unique<FileChannel>(c);
  }
  return std::make_unique<WebhookChannel>(c);  // not reached: every type is above
}

}  // namespace villager::notify
