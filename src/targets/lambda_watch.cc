#include "targets/lambda_watch.h"

#include <algorithm>
#include <cstdio>

#include "aws/cloudwatch.h"
#include "aws/credentials.h"
#include "targets/lambda_aws.h"

namespace villager::targets {

namespace {

using Dims = std::vector<std::pair<std::string, std::string>>;

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

std::string show(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// The rule's current value on one alias, or nullopt when the metric has no data in the window.
Result<std::optional<double>> evaluate(aws::AwsClient& cw, const config::AlarmConfig& a, const Dims& dims,
                                       SystemTime now) {
  auto start = now - a.window;
  std::vector<aws::MetricQuery> q;
  if (a.metric == "error_rate") {
    q = {{"errors", "AWS/Lambda", "Errors", "Sum", dims, 60},
         {"invocations", "AWS/Lambda", "Invocations", "Sum", dims, 60}};
  } else if (a.metric == "errors_5xx") {
    q = {{"errors", "AWS/Lambda", "Errors", "Sum", dims, 60}};
  } else if (a.metric == "p50" || a.metric == "p90" || a.metric == "p99") {
    q = {{"latency", "AWS/Lambda", "Duration", a.metric, dims, 60}};
  } else {
    return std::optional<double>();  // no Lambda metric: left to villager's own probes
  }
  auto data = aws::get_metric_data(cw, q, start, now);
  if (!data) return data.error();
  auto& d = *data;
  if (a.metric == "error_rate") {
    double inv = sum(d["invocations"]);
    if (inv <= 0) return std::optional<double>();
    return std::optional<double>(sum(d["errors"]) / inv);
  }
  if (a.metric == "errors_5xx") return std::optional<double>(sum(d["errors"]));
  if (d["latency"].empty()) return std::optional<double>();
  return std::optional<double>(*std::max_element(d["latency"].begin(), d["latency"].end()));
}

}  // namespace

Status watch_lambda_alarms(const config::Config& config, const config::EnvironmentConfig& env, Clock& clock) {
  if (env.watch.count() <= 0 || config.monitor.alarms.empty()) return Ok();
  auto creds = lambda_credentials(env);
  if (!creds) return creds.error();
  aws::ClientOptions o = lambda_client_options(env, *creds, "monitoring", "monitoring", "CLOUDWATCH");
  o.clock = &clock;
  aws::AwsClient cw(o);
  auto deadline = clock.steady_now() + env.watch;
  std::map<std::string, int> breaches;  // "rule/service" -> consecutive breaching evaluations
  while (true) {
    for (const auto& a : config.monitor.alarms) {
      for (const auto& [service, fn] : env.lambda.functions) {
        if (!a.service.empty() && a.service != service) continue;
        Dims dims = {{"FunctionName", fn}, {"Resource", fn + ":" + env.lambda.alias}};
        auto value = evaluate(cw, a, dims, clock.now());
        if (!value) return value.error().context("watching " + fn + ":" + env.lambda.alias);
        bool breach =
            value->has_value() && (a.comparison == "below" ? **value < a.threshold : **value > a.threshold);
        int& n = breaches[a.name + "/" + service];
        n = breach ? n + 1 : 0;
        if (n >= std::max(1, a.consecutive))
          return FailedPrecondition("alarm '" + a.name + "' fired on " + fn + ":" + env.lambda.alias + ": " +
                                    a.metric + " = " + show(**value) + " is " + a.comparison + " " +
                                    show(a.threshold) + " (CloudWatch)");
      }
    }
    if (clock.steady_now() >= deadline) return Ok();
    clock.sleep_for(std::min<std::chrono::milliseconds>(
        env.probe_interval,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.steady_now()) +
            std::chrono::milliseconds(1)));
  }
}

}  // namespace villager::targets
