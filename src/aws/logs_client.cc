#include "aws/logs_client.h"

#include <nlohmann/json.hpp>

namespace villager::aws {

Result<std::vector<LogEvent>> filter_log_event_records(AwsClient& client, const std::string& group,
                                                       int64_t start_ms, int64_t end_ms, size_t max_events) {
  using json = nlohmann::json;
  std::vector<LogEvent> out;
  std::string token;
  while (out.size() < max_events) {
    json body{{"logGroupName", group}, {"startTime", start_ms}, {"endTime", end_ms}};
    if (!token.empty()) body["nextToken"] = token;
    auto r = client.call("POST", "/", body.dump(), "application/x-amz-json-1.1",
                         {{"X-Amz-Target", "Logs_20140328.FilterLogEvents"}});
    if (!r) return r.error().context("reading log group " + group);
    auto j = json::parse(r->body, nullptr, false);
    if (!j.is_object()) return Internal("FilterLogEvents " + group + ": the answer is not JSON");
    if (j.contains("events") && j["events"].is_array())
      for (const auto& e : j["events"]) {
        if (!e.is_object() || !e.contains("message") || !e["message"].is_string()) continue;
        LogEvent ev;
        ev.message = e["message"].get<std::string>();
        if (e.contains("logStreamName") && e["logStreamName"].is_string())
          ev.stream = e["logStreamName"].get<std::string>();
        if (e.contains("timestamp") && e["timestamp"].is_number_integer())
          ev.timestamp_ms = e["timestamp"].get<int64_t>();
        out.push_back(std::move(ev));
      }
    std::string next =
        j.contains("nextToken") && j["nextToken"].is_string() ? j["nextToken"].get<std::string>() : "";
    if (next.empty() || next == token) break;
    token = next;
  }
  if (out.size() > max_events) out.resize(max_events);
  return out;
}

Result<std::vector<std::string>> filter_log_events(AwsClient& client, const std::string& group,
                                                   int64_t start_ms, int64_t end_ms, size_t max_events) {
  auto events = filter_log_event_records(client, group, start_ms, end_ms, max_events);
  if (!events) return events.error();
  std::vector<std::string> out;
  out.reserve(events->size());
  for (auto& e : *events) out.push_back(std::move(e.message));
  return out;
}

}  // namespace villager::aws
