#include "aws/cloudwatch.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

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

namespace {

// The text of every <tag>...</tag> in `xml` from `from` on, in order (no nesting of the same tag).
std::vector<std::string> xml_all(const std::string& xml, const std::string& tag, size_t from = 0,
                                 size_t to = std::string::npos) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t limit = std::min(to, xml.size());
  while (true) {
    auto a = xml.find(open, from);
    if (a == std::string::npos || a >= limit) break;
    auto b = xml.find(close, a + open.size());
    if (b == std::string::npos || b > limit) break;
    out.push_back(xml.substr(a + open.size(), b - a - open.size()));
    from = b + close.size();
  }
  return out;
}

std::string iso8601(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<std::map<std::string, std::vector<double>>> get_metric_data(AwsClient& client,
                                                                   const std::vector<MetricQuery>& queries,
                                                                   SystemTime start, SystemTime end) {
  std::map<std::string, std::vector<double>> out;
  std::string token;
  for (int page = 0; page < 100; ++page) {  // a bound, not an expectation: one page is usual
    Params p = {{"Action", "GetMetricData"},
                {"Version", "2010-08-01"},
                {"StartTime", iso8601(start)},
                {"EndTime", iso8601(end)},
                {"ScanBy", "TimestampDescending"}};
    for (size_t i = 0; i < queries.size(); ++i) {
      const auto& q = queries[i];
      std::string m = "MetricDataQueries.member." + std::to_string(i + 1);
      p.emplace_back(m + ".Id", q.id);
      p.emplace_back(m + ".MetricStat.Metric.Namespace", q.metric_namespace);
      p.emplace_back(m + ".MetricStat.Metric.MetricName", q.metric_name);
      for (size_t d = 0; d < q.dimensions.size(); ++d) {
        std::string dm = m + ".MetricStat.Metric.Dimensions.member." + std::to_string(d + 1);
        p.emplace_back(dm + ".Name", q.dimensions[d].first);
        p.emplace_back(dm + ".Value", q.dimensions[d].second);
      }
      p.emplace_back(m + ".MetricStat.Period", std::to_string(q.period_seconds));
      p.emplace_back(m + ".MetricStat.Stat", q.stat);
      p.emplace_back(m + ".ReturnData", "true");
    }
    if (!token.empty()) p.emplace_back("NextToken", token);
    auto r = client.call("POST", "/", query_body(p), "application/x-www-form-urlencoded; charset=utf-8");
    if (!r) return r.error().context("GetMetricData");
    const std::string& xml = r->body;
    // Each result is <Id>..</Id> ... <Values><member>v</member>...</Values>, in that order.
    std::vector<size_t> id_pos;
    for (size_t pos = xml.find("<Id>"); pos != std::string::npos; pos = xml.find("<Id>", pos + 4))
      id_pos.push_back(pos);
    for (size_t i = 0; i < id_pos.size(); ++i) {
      size_t end_pos = i + 1 < id_pos.size() ? id_pos[i + 1] : xml.size();
      auto ids = xml_all(xml, "Id", id_pos[i], end_pos);
      if (ids.empty()) continue;
      auto& values = out[ids[0]];
      auto blocks = xml_all(xml, "Values", id_pos[i], end_pos);
      if (blocks.empty()) continue;
      for (const auto& v : xml_all(blocks[0], "member")) {
        try {
          values.push_back(std::stod(v));
        } catch (const std::exception&) {
          return Internal("GetMetricData: a value that is not a number: " + v);
        }
      }
    }
    auto next = xml_all(xml, "NextToken");
    if (next.empty() || next[0].empty()) return out;
    token = next[0];
  }
  return Internal("GetMetricData: more than 100 pages");
}

}  // namespace villager::aws
