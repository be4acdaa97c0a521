#include "cli/lambda_smoke.h"

#include <chrono>
#include <map>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/logs_client.h"
#include "aws/s3_client.h"
#include "base/strings.h"
#include "targets/lambda_aws.h"

namespace villager::cli {

namespace {

// Events written while the check's last request is still being logged land a little after it ends.
constexpr int64_t kLogEndSlackMs = 60 * 1000;

Status read_s3(const config::EnvironmentConfig& env, const aws::Credentials& creds,
               std::vector<smoke::ScanSource>& out) {
  const auto& l = env.lambda;
  if (l.storage_bucket.empty()) return Ok();
  aws::AwsClient s3(targets::lambda_client_options(env, creds, "s3", "s3", "S3"));
  const std::string where = "s3://" + l.storage_bucket + "/" + l.storage_prefix;
  auto keys = aws::s3_list_keys(s3, l.storage_bucket, l.storage_prefix, kMaxScannedObjects + 1);
  if (!keys) return keys.error().context("listing " + where);
  if (keys->size() > kMaxScannedObjects)
    return FailedPrecondition("listing " + where + ": more than " + std::to_string(kMaxScannedObjects) +
                              " objects; set a narrower storage_prefix");
  for (const auto& key : *keys) {
    auto body = aws::s3_get_object(s3, l.storage_bucket, key);
    if (!body) return body.error().context("reading s3://" + l.storage_bucket + "/" + key);
    out.push_back({"s3://" + l.storage_bucket + "/" + key, std::move(*body)});
  }
  return Ok();
}

Status read_logs(const config::EnvironmentConfig& env, const aws::Credentials& creds, int64_t since_ms,
                 std::vector<smoke::ScanSource>& out) {
  aws::AwsClient logs(targets::lambda_client_options(env, creds, "logs", "logs", "CLOUDWATCH_LOGS"));
  const int64_t end_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() +
                         kLogEndSlackMs;
  for (const auto& [service, fn] : env.lambda.functions) {
    // An ARN names the function by its last part; the log group uses the plain name.
    std::string name = fn.substr(fn.rfind(':') == std::string::npos ? 0 : fn.rfind(':') + 1);
    const std::string group = "/aws/lambda/" + name;
    auto events = aws::filter_log_event_records(logs, group, since_ms, end_ms, kMaxScannedLogEvents);
    if (!events) return events.error().context("scanning the logs of " + service);
    // One source per stream, in the order the streams first appear (oldest event first).
    std::vector<std::string> order;
    std::map<std::string, std::string> text;
    for (const auto& e : *events) {
      if (!text.count(e.stream)) order.push_back(e.stream);
      text[e.stream] += e.message;
      if (e.message.empty() || e.message.back() != '\n') text[e.stream] += '\n';
    }
    for (const auto& stream : order) out.push_back({"logs:" + group + "/" + stream, std::move(text[stream])});
  }
  return Ok();
}

}  // namespace

smoke::RemoteSources lambda_remote_sources(const config::Config&, const config::EnvironmentConfig& env) {
  return [env](int64_t since_ms) -> Result<std::vector<smoke::ScanSource>> {
    auto creds = targets::lambda_credentials(env);
    if (!creds) return creds.error();
    std::vector<smoke::ScanSource> out;
    VILLAGER_RETURN_IF_ERROR(read_s3(env, *creds, out));
    VILLAGER_RETURN_IF_ERROR(read_logs(env, *creds, since_ms, out));
    return out;
  };
}

}  // namespace villager::cli
