#include "targets/lambda_aws.h"

namespace villager::targets {

Result<aws::Credentials> lambda_credentials(const config::EnvironmentConfig& env) {
  aws::CredentialSources sources;
  if (!env.lambda.profile.empty()) sources.profile = env.lambda.profile;
  auto creds = aws::load_credentials(sources);
  if (!creds) return creds.error().context("environment '" + env.name + "' (target \"lambda\")");
  return creds;
}

aws::ClientOptions lambda_client_options(const config::EnvironmentConfig& env, const aws::Credentials& creds,
                                         const std::string& service, const std::string& host,
                                         const std::string& env_name) {
  aws::ClientOptions o;
  o.service = service;
  o.region = env.lambda.region;
  o.endpoint = aws::resolve_endpoint(env.lambda.endpoint, host, env_name, env.lambda.region);
  o.credentials = creds;
  return o;
}

}  // namespace villager::targets
