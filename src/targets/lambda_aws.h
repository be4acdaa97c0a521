#pragma once
// How a lambda environment reaches AWS: its credentials (the environment's aws_profile, else the usual
// sources) and one client per AWS service with the environment's region and endpoint. The lambda
// target, its watch and the plaintext check's S3 and log readers (cli/lambda_smoke.cc) all connect
// through these, so an endpoint override or a profile means the same everywhere.

#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "config/config.h"

namespace villager::targets {

// The credentials for `env` (aws::load_credentials with the environment's aws_profile); the error names
// the environment.
Result<aws::Credentials> lambda_credentials(const config::EnvironmentConfig& env);

// The client options for one AWS service of `env`: `service` signs ("lambda", "s3", "logs",
// "monitoring"), `host` is the endpoint's host prefix and `env_name` the suffix of its
// AWS_ENDPOINT_URL_<NAME> override (aws::resolve_endpoint).
aws::ClientOptions lambda_client_options(const config::EnvironmentConfig& env, const aws::Credentials& creds,
                                         const std::string& service, const std::string& host,
                                         const std::string& env_name);

}  // namespace villager::targets
