#pragma once
// The plaintext check's remote storage and logs for a lambda environment (S3 objects under the
// transfers prefix, CloudWatch Logs of `/aws/lambda/{function}`). Lives in cli so the smoke module does
// not link AWS.

#include <string>
#include <vector>

#include "config/config.h"
#include "smoke/smoke.h"

namespace villager::cli {

// Scanning limits: more keys under the prefix than this is an error (a clean result would be a guess);
// log events beyond the limit per log group are not read.
inline constexpr size_t kMaxScannedObjects = 10000;
inline constexpr size_t kMaxScannedLogEvents = 100000;

// The reader the plaintext check calls for a lambda environment: every object under storage_prefix of
// storage_bucket (skipped when no storage_bucket), named "s3://bucket/key", and, per function of the
// environment, the events of `/aws/lambda/{function}` from since_ms on, one source per log stream
// ("logs:/aws/lambda/fn/stream", messages joined by newlines). Credentials as the lambda target loads
// them; a missing log group or bucket, a refused read or too many keys is an error.
smoke::RemoteSources lambda_remote_sources(const config::Config& config,
                                           const config::EnvironmentConfig& env);

}  // namespace villager::cli
