#pragma once
// A pipeline event as the release channel sees it: one thing that happened to one service in one
// environment (deploy started, gate refused, deployed, rolled back, ...), or a status update (the markdown
// in `text`). Plain data; the pipeline fills it, the Notifier routes it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace villager::notify {

// Event kinds, as named in `[[notify]] events = [...]`.
inline constexpr std::string_view kDeployStarted = "deploy_started";
inline constexpr std::string_view kGateRefused = "gate_refused";
inline constexpr std::string_view kSmokeFailed = "smoke_failed";    // pre-traffic smoke: release blocked
inline constexpr std::string_view kDeployFailed = "deploy_failed";  // candidate never healthy, no traffic
inline constexpr std::string_view kCanaryStep = "canary_step";      // outcome passed | failed
inline constexpr std::string_view kDeployed = "deployed";           // 100% traffic
inline constexpr std::string_view kWatchPassed = "watch_passed";
inline constexpr std::string_view kRolledBack = "rolled_back";  // automatic or manual: see trigger
inline constexpr std::string_view kRollbackFailed = "rollback_failed";
inline constexpr std::string_view kStatusUpdate = "status_update";

// Every kind a channel may name.
const std::vector<std::string>& event_kinds();
// Failures: sent first and retried with backoff.
bool is_failure_kind(std::string_view kind);

struct PipelineEvent {
  std::string kind;
  std::string environment;
  std::string service;  // "" for a status update
  std::string version;
  std::string digest;
  std::string actor;
  std::string outcome;       // started | refused | blocked | failed | passed | succeeded | rolled_back
  int64_t duration_ms = -1;  // since the deploy or rollback started; -1 when not measured
  std::string review_path;   // the review document, when known
  std::vector<std::string> reasons;
  std::string trigger;        // what caused a rollback ("manual", "canary at 10%: ...")
  int weight = -1;            // canary step: percent on the new release
  int64_t at_ms = 0;          // unix ms when it happened
  std::string text;           // status update: the markdown message
  int64_t deployment_id = 0;  // the store's deployment row, 0 before one exists (not sent)
};

// {"kind", "environment", ..., "text"}: `text` is the Slack-compatible one-line summary (or the status
// markdown). Every string passes through redact().
std::string event_json(const PipelineEvent& e);
// The one-line human summary: "villager: production/user v1.2.0 deployed (2.1 s) by alice".
std::string event_summary(const PipelineEvent& e);

}  // namespace villager::notify
