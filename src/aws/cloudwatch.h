#pragma once
// CloudWatch alarms (Query API 2010-08-01) over a signed AwsClient for service "monitoring": villager
// mirrors its [[monitor.alarm]] rules as CloudWatch alarms so monitoring outlives the pipeline run.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "aws/client.h"

namespace villager::aws {

struct MetricAlarm {
  std::string name;
  std::string description;
  std::string metric_namespace = "AWS/Lambda";
  std::vector<std::pair<std::string, std::string>>
      dimensions;  // {"FunctionName", "f"}, {"Resource", "f:live"}
  // One metric: `metric_name` with `statistic` ("Sum", "Average") or `extended_statistic` ("p99").
  std::string metric_name;
  std::string statistic;
  std::string extended_statistic;
  // Or a ratio of two Sum metrics (numerator / denominator), e.g. Errors / Invocations.
  std::string ratio_numerator;
  std::string ratio_denominator;
  int period_seconds = 60;
  int evaluation_periods = 1;
  double threshold = 0;
  std::string comparison = "GreaterThanThreshold";  // or LessThanThreshold
  std::string treat_missing_data = "notBreaching";
};

// PutMetricAlarm (creates or replaces the alarm of that name).
Status put_metric_alarm(AwsClient& client, const MetricAlarm& alarm);

struct MetricQuery {
  std::string id;  // lowercase letter first: "errors", "p99"
  std::string metric_namespace = "AWS/Lambda";
  std::string metric_name;  // "Invocations", "Errors", "Duration", "Throttles"
  std::string stat;         // "Sum", "Average", "p99"
  std::vector<std::pair<std::string, std::string>> dimensions;
  int period_seconds = 60;
};

// GetMetricData over [start, end): query id -> datapoint values (newest first, as CloudWatch returns them).
// Follows NextToken until every page is read.
Result<std::map<std::string, std::vector<double>>> get_metric_data(AwsClient& client,
                                                                   const std::vector<MetricQuery>& queries,
                                                                   SystemTime start, SystemTime end);

// The form body of a Query API call: "Action=...&Version=...&k=v" with every key and value encoded.
std::string query_body(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace villager::aws
