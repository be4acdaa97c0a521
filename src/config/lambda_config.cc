#include "config/lambda_config.h"

#include <algorithm>
#include <regex>

#include "base/strings.h"

namespace villager::config {

namespace {

// Lambda's limits on a function's configuration.
constexpr int kMinMemoryMb = 128;
constexpr int kMaxMemoryMb = 10240;
constexpr int kMaxTimeoutSeconds = 900;
constexpr size_t kMaxLayers = 5;

// Lambda function names: letters, digits, - and _, up to 64 characters (an ARN is also accepted).
bool valid_function_name(const std::string& s) {
  static const std::regex kName(
      "^[A-Za-z0-9_-]{1,64}$|^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$");
  return std::regex_match(s, kName);
}

// handlers, runtime, architecture, memory, timeout, layers, provisioned concurrency, CORS credentials and
// the traffic hooks: what every deploy applies to the functions and their alias.
void parse_function_settings(TomlReader& r, const toml::table& t, EnvironmentConfig& e,
                             const CheckService& check_service) {
  LambdaConfig& l = e.lambda;
  std::string where = "[environments." + e.name + "]";
  r.get(t, "handlers", l.handlers);
  static const std::regex kHandler("^[A-Za-z0-9_./-]+\\.[A-Za-z_][A-Za-z0-9_]*$");
  for (const auto& [svc, h] : l.handlers) {
    check_service(r.where(t, "handlers"), svc, where + " handlers");
    if (!l.functions.empty() && !l.functions.count(svc))
      r.error(r.where(t, "handlers"), "handlers names '" + svc + "', which has no entry in 'functions'");
    if (h.size() > 128 || !std::regex_match(h, kHandler))
      r.error(r.where(t, "handlers"),
              "handler for '" + svc +
                  "' must be MODULE.FUNCTION (at most 128 characters), such as "
                  "\"sgraph_ai_app_send.lambda__user.lambda_function.lambda_handler__user.run\": '" +
                  h + "'");
  }
  r.get(t, "runtime", l.runtime);
  static const std::regex kRuntime(
      "^(python3\\.(9|1[0-3])|nodejs(18|20|22)\\.x|java(11|17|21)|dotnet8|ruby3\\.[234]|provided(\\.al2|\\."
      "al2023)?)$");
  if (!l.runtime.empty() && !std::regex_match(l.runtime, kRuntime))
    r.error(r.where(t, "runtime"),
            "unknown Lambda runtime '" + l.runtime +
                "' (such as python3.11, python3.12, python3.13, nodejs20.x, provided.al2023)");
  r.get(t, "architecture", l.architecture);
  if (!l.architecture.empty() && l.architecture != "x86_64" && l.architecture != "arm64")
    r.error(r.where(t, "architecture"),
            "architecture must be \"x86_64\" or \"arm64\", not '" + l.architecture + "'");
  r.get(t, "memory", l.memory_mb, kMinMemoryMb, kMaxMemoryMb);
  r.get_duration(t, "timeout", l.timeout);
  if (t.get("timeout") && (l.timeout.count() % 1000 != 0 || l.timeout < std::chrono::seconds(1) ||
                           l.timeout > std::chrono::seconds(kMaxTimeoutSeconds)))
    r.error(r.where(t, "timeout"), "timeout must be whole seconds from 1s to 15m (Lambda's limit)");
  if (t.get("layers")) {
    r.get(t, "layers", l.layers.emplace());
    static const std::regex kLayer(
        "^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]{1,140}:[0-9]+$");
    if (l.layers->size() > kMaxLayers)
      r.error(r.where(t, "layers"), "Lambda allows at most 5 layers per function; " +
                                        std::to_string(l.layers->size()) + " are listed");
    for (const auto& arn : *l.layers)
      if (!std::regex_match(arn, kLayer))
        r.error(
            r.where(t, "layers"),
            "a layer is its version ARN, arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION: '" + arn + "'");
  }
  if (t.get("provisioned_concurrency"))
    r.get(t, "provisioned_concurrency", l.provisioned_concurrency, 0, 10000);
  r.get(t, "cors_allow_credentials", l.cors_allow_credentials);
  bool wildcard = std::find(l.cors_origins.begin(), l.cors_origins.end(), "*") != l.cors_origins.end();
  if (wildcard && l.cors_allow_credentials)
    r.error(r.where(t, "cors_origins"),
            where +
                ": cors_origins \"*\" with cors_allow_credentials = true would let every website call "
                "this function with its users' credentials; list the origins instead, such as "
                "[\"https://send.sgraph.ai\"]");
  for (const auto& o : l.cors_origins)
    if (o != "*" && !starts_with(o, "http://") && !starts_with(o, "https://"))
      r.error(r.where(t, "cors_origins"), "origin '" + o + "' must start with http:// or https://");
  for (const char* key : {"pre_traffic_hook", "post_traffic_hook"}) {
    std::string& hook = std::string(key) == "pre_traffic_hook" ? l.pre_traffic_hook : l.post_traffic_hook;
    r.get(t, key, hook);
    if (!hook.empty() && !valid_function_name(hook))
      r.error(r.where(t, key),
              std::string(key) + " is a Lambda function name (1-64 letters, digits, - or _): '" + hook + "'");
  }
}

}  // namespace

void parse_lambda_environment(TomlReader& r, const toml::table& t, EnvironmentConfig& e,
                              const CheckService& check_service) {
  std::string where = "[environments." + e.name + "]";
  if (e.target != TargetKind::kLambda) {
    for (const char* k : kLambdaEnvironmentKeys)
      if (t.get(k))
        r.error(r.where(t, k), where + ": '" + std::string(k) + "' is only for target \"lambda\"");
    return;
  }
  LambdaConfig& l = e.lambda;
  r.get(t, "functions", l.functions);
  for (const auto& [svc, fn] : l.functions) {
    check_service(r.where(t, "functions"), svc, where + " functions");
    if (!valid_function_name(fn))
      r.error(r.where(t, "functions"),
              "function name for '" + svc + "' must be 1-64 letters, digits, - or _: '" + fn + "'");
  }
  if (l.functions.empty())
    r.error(r.where(t, "functions"),
            where +
                " has target \"lambda\" but no 'functions', such as "
                "{ user = \"sgraph_ai_app_send__user-prod\", admin = \"sgraph_ai_app_send__admin-prod\" }");
  if (!e.listen.empty()) r.error(r.where(t, "listen"), where + ": 'listen' is only for target \"local\"");
  if (!e.urls.empty()) r.error(r.where(t, "urls"), where + ": 'urls' is only for target \"url\"");
  r.get(t, "alias", l.alias);
  static const std::regex kAlias("^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$");
  if (!std::regex_match(l.alias, kAlias))
    r.error(r.where(t, "alias"),
            "alias must be letters, digits, - or _ and not only digits: '" + l.alias + "'");
  r.get(t, "region", l.region);
  static const std::regex kRegion("^[a-z]{2}(-[a-z]+)+-[0-9]$");
  if (!std::regex_match(l.region, kRegion))
    r.error(r.where(t, "region"), "region must look like \"eu-west-2\": '" + l.region + "'");
  r.get(t, "endpoint", l.endpoint);
  if (!l.endpoint.empty() && !starts_with(l.endpoint, "http://") && !starts_with(l.endpoint, "https://"))
    r.error(r.where(t, "endpoint"), "endpoint must start with http:// or https://: '" + l.endpoint + "'");
  while (!l.endpoint.empty() && l.endpoint.back() == '/') l.endpoint.pop_back();
  r.get(t, "s3_bucket", l.s3_bucket);
  r.get(t, "s3_key_prefix", l.s3_key_prefix);
  r.get(t, "aws_profile", l.profile);
  r.get(t, "cors_origins", l.cors_origins);
  r.get(t, "url_template", l.url_template);
  if (!l.url_template.empty() && l.url_template.find("{function}") == std::string::npos)
    r.error(r.where(t, "url_template"), "url_template must contain {function} (and usually {qualifier})");
  r.get(t, "storage_bucket", l.storage_bucket);
  static const std::regex kBucket("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$");
  if (!l.storage_bucket.empty() && !std::regex_match(l.storage_bucket, kBucket))
    r.error(r.where(t, "storage_bucket"),
            "storage_bucket must be an S3 bucket name (3-63 lowercase letters, digits, . or -): '" +
                l.storage_bucket + "'");
  r.get(t, "storage_prefix", l.storage_prefix);
  if (starts_with(l.storage_prefix, "/"))
    r.error(r.where(t, "storage_prefix"),
            "storage_prefix is an S3 key prefix and must not start with /: '" + l.storage_prefix + "'");
  parse_function_settings(r, t, e, check_service);
}

bool apply_strategy_preset(const std::string& name, EnvironmentConfig& e) {
  static const std::regex kCanary("^Canary10Percent(5|10|15|30)Minutes$");
  static const std::regex kLinear("^Linear10PercentEvery(1|2|3|10)Minutes?$");
  std::smatch m;
  if (name == "AllAtOnce") {
    e.strategy = Strategy::kAllAtOnce;
    e.steps.clear();
    return true;
  }
  if (std::regex_match(name, m, kCanary)) {
    e.strategy = Strategy::kCanary;
    e.steps = {10, 100};
    e.step_interval = Millis(std::stoi(m[1].str()) * 60 * 1000);
    return true;
  }
  if (std::regex_match(name, m, kLinear)) {
    int minutes = std::stoi(m[1].str());
    // CodeDeploy spells one minute "Every1Minute" and more "EveryNMinutes".
    if ((minutes == 1) != (name.back() == 'e')) return false;
    e.strategy = Strategy::kCanary;
    e.steps = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    e.step_interval = Millis(minutes * 60 * 1000);
    return true;
  }
  return false;
}

}  // namespace villager::config
