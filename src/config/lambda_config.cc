#include "config/lambda_config.h"

#include <regex>

#include "base/strings.h"

namespace villager::config {

namespace {

const char* kLambdaOnlyKeys[] = {"functions",    "alias",          "region",        "endpoint",
                                 "s3_bucket",    "s3_key_prefix",  "aws_profile",   "cors_origins",
                                 "url_template", "storage_bucket", "storage_prefix"};

// Lambda function names: letters, digits, - and _, up to 64 characters (an ARN is also accepted).
bool valid_function_name(const std::string& s) {
  static const std::regex kName(
      "^[A-Za-z0-9_-]{1,64}$|^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$");
  return std::regex_match(s, kName);
}

}  // namespace

void parse_lambda_environment(TomlReader& r, const toml::table& t, EnvironmentConfig& e,
                              const CheckService& check_service) {
  std::string where = "[environments." + e.name + "]";
  if (e.target != TargetKind::kLambda) {
    for (const char* k : kLambdaOnlyKeys)
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
