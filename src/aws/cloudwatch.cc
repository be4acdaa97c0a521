#include "aws/cloudwatch.h"

#include <cstdio>

namespace villager::aws {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

void add_metric_stat(Params& p, const std::string& prefix, const MetricAlarm& a, const std::string& metric,
                     const std::string& stat) {
  p.emplace_back(prefix + ".MetricStat.Metric.Namespace", a.metric_namespace);
  p.emplace_back(prefix + ".MetricStat.Metric.MetricName", metric);
  for (size_t i = 0; i < a.dimensions.size(); ++i) {
    std::string d = prefix + ".MetricStat.Metric.Dimensions.member." + std::to_string(i + 1);
    p.emplace_back(d + ".Name", a.dimensions[i].first);
    p.emplace_back(d + ".Value", a.dimensions[i].second);
  }
  p.emplace_back(prefix + ".MetricStat.Period", std::to_string(a.period_seconds));
  p.emplace_back(prefix + ".MetricStat.Stat", stat);
}

}  // namespace

std::string query_body(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += "&";
    out += uri_encode(k) + "=" + uri_encode(v);
  }
  return out;
}

Status put_metric_alarm(AwsClient& client, const MetricAlarm& a) {
  Params p = {{"Action", "PutMetricAlarm"},
              {"Version", "2010-08-01"},
              {"AlarmName", a.name},
              {"AlarmDescription", a.description},
              {"EvaluationPeriods", std::to_string(a.evaluation_periods)},
              {"Threshold", number(a.threshold)},
              {"ComparisonOperator", a.comparison},
              {"TreatMissingData", a.treat_missing_data}};
  if (!a.ratio_numerator.empty()) {
    add_metric_stat(p, "Metrics.member.1", a, a.ratio_numerator, "Sum");
    p.emplace_back("Metrics.member.1.Id", "numerator");
    p.emplace_back("Metrics.member.1.ReturnData", "false");
    add_metric_stat(p, "Metrics.member.2", a, a.ratio_denominator, "Sum");
    p.emplace_back("Metrics.member.2.Id", "denominator");
    p.emplace_back("Metrics.member.2.ReturnData", "false");
    p.emplace_back("Metrics.member.3.Id", "ratio");
    p.emplace_back("Metrics.member.3.Expression", "IF(denominator > 0, numerator / denominator, 0)");
    p.emplace_back("Metrics.member.3.ReturnData", "true");
  } else {
    p.emplace_back("Namespace", a.metric_namespace);
    p.emplace_back("MetricName", a.metric_name);
    for (size_t i = 0; i < a.dimensions.size(); ++i) {
      std::string d = "Dimensions.member." + std::to_string(i + 1);
      p.emplace_back(d + ".Name", a.dimensions[i].first);
      p.emplace_back(d + ".Value", a.dimensions[i].second);
    }
    p.emplace_back("Period", std::to_string(a.period_seconds));
    if (!a.extended_statistic.empty())
      p.emplace_back("ExtendedStatistic", a.extended_statistic);
    else
      p.emplace_back("Statistic", a.statistic.empty() ? "Sum" : a.statistic);
  }
  auto r = client.call("POST", "/", query_body(p), "application/x-www-form-urlencoded; charset=utf-8");
  if (!r) return r.error().context("PutMetricAlarm " + a.name);
  return Ok();
}

}  // namespace villager::aws
