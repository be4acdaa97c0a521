#include "notify/event.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/redact.h"
#include "base/strings.h"

namespace villager::notify {

const std::vector<std::string>& event_kinds() {
  static const std::vector<std::string> kinds = {std::string(kDeployStarted),  std::string(kGateRefused),
                                                 std::string(kSmokeFailed),    std::string(kDeployFailed),
                                                 std::string(kCanaryStep),     std::string(kDeployed),
                                                 std::string(kWatchPassed),    std::string(kRolledBack),
                                                 std::string(kRollbackFailed), std::string(kStatusUpdate)};
  return kinds;
}

bool is_failure_kind(std::string_view kind) {
  return kind == kGateRefused || kind == kSmokeFailed || kind == kDeployFailed || kind == kRolledBack ||
         kind == kRollbackFailed;
}

std::string event_summary(const PipelineEvent& e) {
  std::string where = e.environment + (e.service.empty() ? "" : "/" + e.service);
  std::string s = "villager: " + where + (e.version.empty() ? "" : " " + e.version) + " ";
  if (e.kind == kDeployStarted)
    s += "deploy started";
  else if (e.kind == kGateRefused)
    s += "refused by the gate";
  else if (e.kind == kSmokeFailed)
    s += "blocked: pre-traffic smoke failed";
  else if (e.kind == kDeployFailed)
    s += "deploy failed, no traffic moved";
  else if (e.kind == kCanaryStep)
    s += "canary at " + std::to_string(e.weight) + "% " + e.outcome;
  else if (e.kind == kDeployed)
    s += "deployed (100% traffic)";
  else if (e.kind == kWatchPassed)
    s += "watch passed";
  else if (e.kind == kRolledBack)
    s += "rolled back";
  else if (e.kind == kRollbackFailed)
    s += "ROLLBACK FAILED";
  else
    s += e.kind;
  if (e.duration_ms >= 0) s += " (" + format_duration(std::chrono::milliseconds(e.duration_ms)) + ")";
  if (!e.actor.empty()) s += " by " + e.actor;
  if (!e.trigger.empty()) s += "; trigger: " + e.trigger;
  if (!e.reasons.empty()) s += "; " + join(e.reasons, "; ");
  if (!e.review_path.empty()) s += "; review: " + e.review_path;
  return redact(s);
}

std::string event_json(const PipelineEvent& e) {
  nlohmann::json reasons = nlohmann::json::array();
  for (const auto& r : e.reasons) reasons.push_back(redact(r));
  nlohmann::json j = {{"kind", e.kind},
                      {"environment", e.environment},
                      {"service", e.service},
                      {"version", e.version},
                      {"digest", e.digest},
                      {"actor", redact(e.actor)},
                      {"outcome", e.outcome},
                      {"duration_ms", e.duration_ms},
                      {"review_path", e.review_path},
                      {"reasons", reasons},
                      {"trigger", redact(e.trigger)},
                      {"at_ms", e.at_ms},
                      {"text", e.kind == kStatusUpdate ? redact(e.text) : event_summary(e)}};
  if (e.weight >= 0) j["weight"] = e.weight;
  // A value that is not valid UTF-8 is replaced, never a throw.
  return redact(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace villager::notify
