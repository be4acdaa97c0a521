#pragma once
// The JSON views the CLI prints with --json and the dashboard serves under /api/v1: each is built by one
// function here, so `villager status --json`, `villager history --json` and the dashboard never disagree.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/store.h"

namespace villager::cli {

// One environment of `villager status --json`: {"name", "target", "services": [{"service", "url",
// "serving", "warm", "starting", "weights", "held"?, "canary"?}], "error"?}; "held" (version, digest,
// weight, deployment_id, since, reason, next) when a canary is held (pipeline/held.h), "canary" (version,
// digest, weight, deployment_id, since, next) while a deploy runs (pipeline/abort.h). Asks the environment's
// target for its slots; sets `failed` when it could not answer (the entry then carries "error").
nlohmann::json environment_status_json(const config::Config& config, const config::EnvironmentConfig& env,
                                       bool& failed);

// One deployment row of `villager history --json`, with its outcome's "message" and "aborted_by" when set.
nlohmann::json deployment_json(const store::Deployment& d);
// Its steps, in order: {"seq", "name", "kind", "arg", "status", "started_at", "finished_at",
// "duration_ms", "detail"} with detail parsed (a canary step's detail is the canary analysis).
Result<nlohmann::json> steps_json(store::Store& store, int64_t deployment_id);

}  // namespace villager::cli
