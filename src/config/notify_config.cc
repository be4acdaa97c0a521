#include "config/notify_config.h"

#include <algorithm>

#include "base/strings.h"

namespace villager::config {

namespace {

const std::vector<std::string> kNotifyKeys = {"type",   "url",          "command", "path",
                                              "events", "environments", "timeout"};
const std::vector<std::string> kAlertKeys = {"type", "url", "command", "path"};  // deprecated [[alert]]
// Kept in step with notify/event.h and notify/alert.h (config sits below notify in the dependency order).
const std::vector<std::string> kNotifyEvents = {
    "deploy_started", "gate_refused", "smoke_failed",    "deploy_failed", "canary_step", "deployed",
    "watch_passed",   "rolled_back",  "rollback_failed", "status_update", "alert"};
constexpr Millis kMaxNotifyTimeout{60000};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Alertmanager takes alerts only: events defaults to ["alert"] and names nothing else.
void check_alertmanager(TomlReader& r, const toml::table& t, NotifyConfig& n) {
  if (n.type != ChannelType::kAlertmanager) return;
  if (n.events.empty()) n.events = {"alert"};
  if (n.events != std::vector<std::string>{"alert"})
    r.error(r.where(t, "events"),
            "a channel of type 'alertmanager' carries alerts only: events = [\"alert\"]");
}

// `table` is "[[notify]]" or the deprecated "[[alert]]" (its four keys, events = ["alert"]).
void parse_one(TomlReader& r, const toml::table& t, const std::string& table, Config& c) {
  NotifyConfig n;
  bool alert = table == "[[alert]]";
  std::string what = alert ? "alert" : "notify";  // how messages name the entry
  r.check_keys(t, table, alert ? kAlertKeys : kNotifyKeys);
  std::string type;
  r.get(t, "type", type, true);
  if (auto parsed = parse_channel_type(type))
    n.type = *parsed;
  else if (!type.empty())
    r.error(r.where(t, "type"),
            "unknown " + what + " type '" + type + "' (one of: " + join(channel_type_names(), ", ") + ")");
  r.get(t, "url", n.url);
  r.get(t, "command", n.command);
  r.get(t, "path", n.path);
  r.get(t, "events", n.events);
  r.get(t, "environments", n.environments);
  r.get_duration(t, "timeout", n.timeout);
  if (alert) {
    n.events = {"alert"};
    r.warn(t.source(),
           "[[alert]] is deprecated: write it as [[notify]] with the same keys and events = "
           "[\"alert\"] (docs/notify.md)");
  }
  check_alertmanager(r, t, n);
  if ((n.type == ChannelType::kWebhook || n.type == ChannelType::kAlertmanager) && n.url.empty())
    r.error(t.source(), what + " of type '" + type + "' needs 'url'");
  if (!n.url.empty() && !starts_with(n.url, "http://") && !starts_with(n.url, "https://"))
    r.error(r.where(t, "url"), "'url' must start with http:// or https://");
  if (n.type == ChannelType::kCommand && n.command.empty())
    r.error(t.source(), what + " of type 'command' needs 'command'");
  if (n.type == ChannelType::kFile && n.path.empty())
    r.error(t.source(), what + " of type 'file' needs 'path'");
  for (const auto& e : n.events)
    if (!contains(kNotifyEvents, e)) {
      std::string hint = suggest(e, kNotifyEvents);
      r.error(r.where(t, "events"), "unknown event '" + e + "'" +
                                        (hint.empty() ? " (one of: " + join(kNotifyEvents, ", ") + ")"
                                                      : " (did you mean '" + hint + "'?)"));
    }
  for (const auto& e : n.environments)
    if (!c.environment(e)) r.error(r.where(t, "environments"), "no environment '" + e + "' to notify about");
  if (n.timeout.count() <= 0 || n.timeout > kMaxNotifyTimeout)
    r.error(r.where(t, "timeout"), "'timeout' must be between 1ms and 60s");
  if (!n.path.empty() && std::filesystem::path(n.path).is_relative()) n.path = (c.root / n.path).string();
  c.notify.push_back(std::move(n));
}

}  // namespace

const std::vector<std::string>& channel_type_names() {
  static const std::vector<std::string> names = {"webhook", "command", "file", "alertmanager"};
  return names;
}

std::string_view channel_type_name(ChannelType type) {
  return channel_type_names()[static_cast<size_t>(type)];
}

std::optional<ChannelType> parse_channel_type(std::string_view name) {
  const auto& names = channel_type_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<ChannelType>(i);
  return std::nullopt;
}

bool NotifyConfig::takes_alerts() const {
  return contains(events, "alert");
}

bool NotifyConfig::takes_pipeline_events() const {
  if (type == ChannelType::kAlertmanager) return false;
  return events.empty() ||
         std::any_of(events.begin(), events.end(), [](const auto& e) { return e != "alert"; });
}

void parse_notify(TomlReader& r, const toml::table& root, Config& c) {
  for (std::string key : {"notify", "alert"}) {
    const toml::node* n = root.get(key);
    if (!n) continue;
    std::string table = "[[" + key + "]]";
    const toml::array* a = n->as_array();
    if (!a) {
      r.error_at(*n, "'" + key + "' must be an array of tables (" + table + ")");
      continue;
    }
    for (const auto& e : *a) {
      if (const toml::table* t = e.as_table())
        parse_one(r, *t, table, c);
      else
        r.error_at(e, "each " + table + " entry must be a table");
    }
  }
}

}  // namespace villager::config
