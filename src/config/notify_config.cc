#include "config/notify_config.h"

#include <algorithm>

#include "base/strings.h"

namespace villager::config {

namespace {

const std::vector<std::string> kNotifyKeys = {"type",   "url",          "command", "path",
                                              "events", "environments", "timeout"};
const std::vector<std::string> kNotifyTypes = {"webhook", "command", "file"};
// Kept in step with notify/event.h (config sits below notify in the dependency order).
const std::vector<std::string> kNotifyEvents = {
    "deploy_started", "gate_refused", "smoke_failed", "deploy_failed",   "canary_step",
    "deployed",       "watch_passed", "rolled_back",  "rollback_failed", "status_update"};
constexpr Millis kMaxNotifyTimeout{60000};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void parse_one(TomlReader& r, const toml::table& t, Config& c) {
  NotifyConfig n;
  r.check_keys(t, "[[notify]]", kNotifyKeys);
  r.get(t, "type", n.type, true);
  r.get(t, "url", n.url);
  r.get(t, "command", n.command);
  r.get(t, "path", n.path);
  r.get(t, "events", n.events);
  r.get(t, "environments", n.environments);
  r.get_duration(t, "timeout", n.timeout);
  if (!n.type.empty() && !contains(kNotifyTypes, n.type))
    r.error(r.where(t, "type"),
            "unknown notify type '" + n.type + "' (one of: " + join(kNotifyTypes, ", ") + ")");
  if (n.type == "webhook" && n.url.empty()) r.error(t.source(), "notify of type 'webhook' needs 'url'");
  if (!n.url.empty() && !starts_with(n.url, "http://") && !starts_with(n.url, "https://"))
    r.error(r.where(t, "url"), "'url' must start with http:// or https://");
  if (n.type == "command" && n.command.empty())
    r.error(t.source(), "notify of type 'command' needs 'command'");
  if (n.type == "file" && n.path.empty()) r.error(t.source(), "notify of type 'file' needs 'path'");
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

void parse_notify(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("notify");
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) {
    r.error_at(*n, "'notify' must be an array of tables ([[notify]])");
    return;
  }
  for (const auto& e : *a) {
    if (const toml::table* t = e.as_table())
      parse_one(r, *t, c);
    else
      r.error_at(e, "each [[notify]] entry must be a table");
  }
}

}  // namespace villager::config
