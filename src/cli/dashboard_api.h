#pragma once
// The dashboard's JSON API (/api/v1/..., docs/dashboard.md): each view's data, built from the store, the
// environments' targets and the report with the same functions the CLI prints them with (views.h,
// report::compute_report, report::rollback_timings, store::verify_audit). Read-only: actions live in
// dashboard_server.cc.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "store/store.h"

namespace villager::cli {

struct ApiWindow {
  std::string environment{};  // "" = every environment
  int64_t since_ms = 0;
  int64_t until_ms = 0;
  int limit = 50;
};

// {"environments": [status entry + per service "probe", "alarms_firing", "last_deploy"], "open_issues"}
Result<nlohmann::json> api_environments(const config::Config& config, store::Store& store);
// {"deployments": [history entry + "steps" + "detail" (the gate decision with approvals_used, signers)]}.
Result<nlohmann::json> api_deployments(store::Store& store, const ApiWindow& w);
// {"deployment": ..., "steps": [...], "canary": [{"weight", "started_at_ms", "finished_at_ms", "status",
// "analysis"}]}: the canary steps with their analysis (verdict table and each side's figures).
Result<nlohmann::json> api_deployment(store::Store& store, int64_t id);
// {"target_ms": 300000, "rollbacks": [{deployment_id, environment, service, kind, detected_at_ms,
// restored_at_ms, duration_ms, met}]}, oldest first.
Result<nlohmann::json> api_rollbacks(store::Store& store, const ApiWindow& w);
// {"bucket_ms", "services": [{"environment", "service", "uptime", "samples", "ok", "buckets":
// [{"start_ms", "samples", "ok", "pending", "during_deploy"}], "deploys": [{"at_ms", "version", "status"}]}]}
Result<nlohmann::json> api_uptime(const config::Config& config, store::Store& store, const ApiWindow& w,
                                  int buckets);
// `villager report --json`, plus "reviews": [{"name", "path"}] (paths relative to the reviews folder).
Result<nlohmann::json> api_report(const config::Config& config, store::Store& store, const ApiWindow& w);
// A review document's markdown, by its path relative to the reviews folder; NotFound outside it.
Result<std::string> api_review_text(const config::Config& config, const std::string& relative);
// {"verification": {ok, events, head_hash, first_bad_seq, problem, message}, "events": [...]}
Result<nlohmann::json> api_audit(store::Store& store, int limit);
// A number that changes whenever the store records something new (audit events, deployments, steps,
// probe samples): what the event stream watches.
Result<std::string> store_change_mark(store::Store& store);

}  // namespace villager::cli
