#pragma once
// The `target = "lambda"` keys of an [environments.NAME] table, and CodeDeploy's strategy presets.
// Internal to the config module: config.cc calls these while it parses an environment.

#include <array>
#include <functional>
#include <string>

#include "config/config.h"
#include "config/toml_reader.h"

namespace villager::config {

// The keys only a `target = "lambda"` environment may have.
inline constexpr std::array<const char*, 21> kLambdaEnvironmentKeys = {"functions",
                                                                       "alias",
                                                                       "region",
                                                                       "endpoint",
                                                                       "s3_bucket",
                                                                       "s3_key_prefix",
                                                                       "aws_profile",
                                                                       "cors_origins",
                                                                       "url_template",
                                                                       "storage_bucket",
                                                                       "storage_prefix",
                                                                       "handlers",
                                                                       "runtime",
                                                                       "architecture",
                                                                       "memory",
                                                                       "timeout",
                                                                       "layers",
                                                                       "provisioned_concurrency",
                                                                       "cors_allow_credentials",
                                                                       "pre_traffic_hook",
                                                                       "post_traffic_hook"};

using CheckService =
    std::function<void(const toml::source_region& at, const std::string& service, const std::string& where)>;

// Reads functions, alias, region, endpoint, s3_bucket, s3_key_prefix, aws_profile, cors_origins,
// url_template, storage_bucket and storage_prefix into e.lambda; records an error for lambda keys on other
// targets and for a lambda environment without `functions`.
void parse_lambda_environment(TomlReader& r, const toml::table& t, EnvironmentConfig& e,
                              const CheckService& check_service);

// CodeDeploy's Lambda deployment presets as villager strategies: "Canary10Percent5Minutes" is a canary of
// [10, 100] with a 5-minute step, "Linear10PercentEvery1Minute" ten steps of 10% a minute apart,
// "AllAtOnce" all at once. Returns false (and leaves `e` alone) for any other name.
bool apply_strategy_preset(const std::string& name, EnvironmentConfig& e);

}  // namespace villager::config
