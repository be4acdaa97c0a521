#pragma once
// The lambda engine (target = "lambda"): each service is one Lambda function; a slot is a published
// version, found again by its CodeSha256 (the artifact digest) and its description
// "villager sha256:<hex> <version>"; traffic is the alias's FunctionVersion plus
// RoutingConfig.AdditionalVersionWeights. Lambda keeps every version's code and configuration
// (environment variables, so secrets too), so a rollback is one UpdateAlias. The candidate is smoked
// through the Function URL of the alias "<alias>-candidate", which points at the new version only.

#include <memory>

#include "targets/target.h"

namespace villager::targets {

// Loads AWS credentials (environment, then the shared credentials file) and checks the config; makes
// no AWS call.
Result<std::unique_ptr<Target>> make_lambda_target(const config::Config& config,
                                                   const config::EnvironmentConfig& env);

}  // namespace villager::targets
