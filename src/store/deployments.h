#pragma once
// deployments: one row per deploy or rollback of a service into an environment, from start to finish.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "store/deployment_steps.h"

namespace villager::store {

class Store;

enum class DeploymentKind { kDeploy, kRollback };
enum class DeploymentStatus { kRunning, kSucceeded, kFailed, kRolledBack };

std::string_view to_string(DeploymentKind kind);      // "deploy" | "rollback"
std::string_view to_string(DeploymentStatus status);  // "running" | "succeeded" | "failed" | "rolled_back"
Result<DeploymentKind> parse_deployment_kind(std::string_view text);
Result<DeploymentStatus> parse_deployment_status(std::string_view text);

struct Deployment {
  int64_t id = 0;  // assigned by create_deployment
  std::string environment;
  std::string service;
  DeploymentKind kind = DeploymentKind::kDeploy;
  std::string version;
  std::string digest;       // what is being deployed (or rolled back to)
  std::string from_digest;  // what was serving before; "" when nothing was
  DeploymentStatus status = DeploymentStatus::kRunning;
  std::string actor;
  int64_t started_at = 0;              // unix ms; 0 = now
  std::optional<int64_t> finished_at;  // unset while running
  std::string detail = "{}";           // JSON object text
};

// Inserts a deployment (status as given, normally running) and returns its id.
Result<int64_t> create_deployment(Store& store, const Deployment& deployment);
// Sets the final status, finished_at (0 = now) and detail JSON of a running deployment. NotFound for an
// unknown id; FailedPrecondition if it already finished (history is not rewritten); InvalidArgument for
// status running.
Status finish_deployment(Store& store, int64_t id, DeploymentStatus status,
                         std::string_view detail_json = "{}", int64_t finished_at = 0);
Result<Deployment> get_deployment(Store& store, int64_t id);

struct DeploymentFilter {
  std::string environment;  // "" = every environment
  std::string service;      // "" = every service
  int64_t since = 0;        // started_at >= since (unix ms)
  int limit = 100;          // 0 = no limit
};
// Newest first (started_at, then id).
Result<std::vector<Deployment>> list_deployments(Store& store, const DeploymentFilter& filter = {});
// The newest deployment (or rollback) of one service in one environment; nullopt when there is none.
Result<std::optional<Deployment>> newest_deployment(Store& store, const std::string& environment,
                                                    const std::string& service);

}  // namespace villager::store
