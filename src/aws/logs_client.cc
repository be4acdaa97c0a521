#include "aws/logs_client.h"

#include <nlohmann/json.hpp>

namespace villager::aws {

Result<std::vector<std::string>> filter_log_events(AwsClient& client, const std::string& group,
                                                   int64_t start_ms, int64_t end_ms, size_t max_events) {
  using json = nlohmann::json;
  std::vector<std::string> out;
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
      for (const auto& e : j["events"])
        if (e.contains("message") && e["message"].is_string()) out.push_back(e["message"].get<std::string>());
    std::string next =
        j.contains("nextToken") && j["nextToken"].is_string() ? j["nextToken"].get<std::string>() : "";
    if (next.empty() || next == token) break;
    token = next;
  }
  if (out.size() > max_events) out.resize(max_events);
  return out;
}

}  // namespace villager::aws
