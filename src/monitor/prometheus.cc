#include "monitor/prometheus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace villager::monitor {

namespace {

constexpr std::array<const char*, 5> kClassNames = {"1xx", "2xx", "3xx", "4xx", "5xx"};

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest exact form: try fewer digits while the value still round-trips.
  for (int prec = 1; prec <= 17; ++prec) {
    char t[64];
    std::snprintf(t, sizeof t, "%.*g", prec, v);
    if (std::strtod(t, nullptr) == v) return t;
  }
  return buf;
}

struct Labels {
  std::string text;
  Labels& add(const char* name, const std::string& value) {
    if (!text.empty()) text += ",";
    text += name;
    text += "=\"";
    text += escape_label_value(value);
    text += "\"";
    return *this;
  }
  std::string str() const { return "{" + text + "}"; }
};

Labels series_labels(const SeriesKey& k) {
  Labels l;
  l.add("environment", k.environment).add("service", k.service).add("release", k.release);
  return l;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += " ";
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " ";
  out += type;
  out += "\n";
}

void sample(std::string& out, const std::string& name, const Labels& l, const std::string& value) {
  out += name;
  out += l.str();
  out += " ";
  out += value;
  out += "\n";
}

}  // namespace

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string write_prometheus(const Exposition& e) {
  std::string out;
  header(out, "villager_requests_total", "counter", "Requests answered by the edge proxy, by status class.");
  for (const auto& [key, c] : e.series)
    for (size_t i = 0; i < kClassNames.size(); ++i) {
      Labels l = series_labels(key);
      l.add("code_class", kClassNames[i]);
      sample(out, "villager_requests_total", l, std::to_string(c.classes[i]));
    }

  header(out, "villager_request_duration_seconds", "histogram",
         "Edge latency from the first request byte to the last response byte.");
  for (const auto& [key, c] : e.series) {
    size_t next = 0;  // into c.buckets, ascending
    uint64_t cumulative = 0;
    for (double le : kLatencyBucketsSeconds) {
      auto le_us = static_cast<uint64_t>(std::llround(le * 1e6));
      while (next < c.buckets.size() && stats::layout::lower_bound(c.buckets[next].first) <= le_us)
        cumulative += c.buckets[next++].second;
      Labels l = series_labels(key);
      l.add("le", format_double(le));
      sample(out, "villager_request_duration_seconds_bucket", l, std::to_string(cumulative));
    }
    while (next < c.buckets.size()) cumulative += c.buckets[next++].second;
    // Counters are read without a common lock, so keep +Inf and _count at least every finite bucket.
    uint64_t total = std::max(cumulative, c.requests);
    Labels inf = series_labels(key);
    inf.add("le", "+Inf");
    sample(out, "villager_request_duration_seconds_bucket", inf, std::to_string(total));
    sample(out, "villager_request_duration_seconds_sum", series_labels(key),
           format_double(static_cast<double>(c.latency_sum_us) / 1e6));
    sample(out, "villager_request_duration_seconds_count", series_labels(key), std::to_string(total));
  }

  header(out, "villager_request_bytes_total", "counter", "Request body bytes received by the edge proxy.");
  for (const auto& [key, c] : e.series)
    sample(out, "villager_request_bytes_total", series_labels(key), std::to_string(c.bytes_in));
  header(out, "villager_response_bytes_total", "counter", "Response body bytes sent by the edge proxy.");
  for (const auto& [key, c] : e.series)
    sample(out, "villager_response_bytes_total", series_labels(key), std::to_string(c.bytes_out));

  header(out, "villager_up", "gauge", "1 if the last health probe succeeded, else 0.");
  for (const auto& p : e.probes) {
    Labels l;
    l.add("environment", p.environment)
        .add("service", p.service)
        .add("kind", p.kind)
        .add("release", p.release);
    sample(out, "villager_up", l, p.up ? "1" : "0");
  }
  header(out, "villager_restarts_total", "counter", "Crash restarts of a release's process by the agent.");
  for (const auto& r : e.restarts) {
    Labels l;
    l.add("environment", r.environment).add("service", r.service).add("release", r.release);
    sample(out, "villager_restarts_total", l, std::to_string(r.restarts));
  }
  header(out, "villager_alarm_firing", "gauge", "1 while the alarm is firing, else 0.");
  for (const auto& a : e.alarms) {
    Labels l;
    l.add("environment", a.environment)
        .add("service", a.service)
        .add("alarm", a.alarm)
        .add("severity", a.severity);
    sample(out, "villager_alarm_firing", l, a.firing ? "1" : "0");
  }
  return out;
}

}  // namespace villager::monitor
