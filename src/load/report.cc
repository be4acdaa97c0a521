#include "load/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace villager::load {

namespace {

struct Quantile {
  const char* label;
  const char* key;
  double q;
};
constexpr Quantile kQuantiles[] = {
    {"50%", "p50", 0.50}, {"75%", "p75", 0.75},      {"90%", "p90", 0.90},
    {"99%", "p99", 0.99}, {"99.9%", "p99_9", 0.999}, {"99.99%", "p99_99", 0.9999},
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string pad_left(std::string s, size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

void distribution(std::string& out, const char* title, const stats::Histogram& h) {
  out += std::string("  ") + title + "\n";
  for (const auto& q : kQuantiles)
    out += "  " + pad_left(q.label, 7) + "  " + pad_left(format_latency(h.percentile(q.q)), 9) + "\n";
  out += "  " + pad_left("max", 7) + "  " + pad_left(format_latency(h.max()), 9) + "\n";
}

nlohmann::json latency_json(const stats::Histogram& h) {
  nlohmann::json j;
  j["count"] = h.count();
  j["min_us"] = h.min();
  j["mean_us"] = h.mean();
  j["stdev_us"] = h.stddev();
  for (const auto& q : kQuantiles) j[std::string(q.key) + "_us"] = h.percentile(q.q);
  j["max_us"] = h.max();
  return j;
}

}  // namespace

std::string format_latency(uint64_t us) {
  if (us < 1000) return std::to_string(us) + "us";
  if (us < 1'000'000) return fmt("%.2fms", static_cast<double>(us) / 1e3);
  return fmt("%.2fs", static_cast<double>(us) / 1e6);
}

std::string format_bytes(double b) {
  if (b < 1024) return fmt("%.2fB", b);
  if (b < 1024 * 1024) return fmt("%.2fKB", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return fmt("%.2fMB", b / (1024 * 1024));
  return fmt("%.2fGB", b / (1024.0 * 1024 * 1024));
}

std::string format_banner(const LoadOptions& o) {
  std::string out = "Running " + format_duration(o.duration) + " test @ " + o.url.to_string() + "\n";
  out += "  " + std::to_string(o.threads) + " threads and " + std::to_string(o.connections) + " connections";
  if (o.rate > 0) out += ", target rate " + fmt("%.0f", o.rate) + " requests/sec (open model)";
  out += "\n";
  return out;
}

std::string format_text(const LoadReport& r) {
  std::string out;
  const auto& h = r.latency;
  out += "  Thread Stats   Avg      Stdev     Max\n";
  out += "    Latency  " + pad_left(format_latency(static_cast<uint64_t>(h.mean())), 9) +
         pad_left(format_latency(static_cast<uint64_t>(h.stddev())), 10) +
         pad_left(format_latency(h.max()), 10) + "\n";
  distribution(out,
               r.open_model ? "Latency Distribution (corrected: from the time each request was due)"
                            : "Latency Distribution",
               h);
  if (r.open_model) distribution(out, "Uncorrected Latency (from the actual send)", r.uncorrected);
  out += "  " + std::to_string(r.responses) + " requests in " + fmt("%.2fs", r.duration_s) + ", " +
         format_bytes(static_cast<double>(r.bytes_read)) + " read\n";
  const auto& e = r.errors;
  if (e.total())
    out += "  Socket errors: connect " + std::to_string(e.connect) + ", read " + std::to_string(e.read) +
           ", write " + std::to_string(e.write) + ", timeout " + std::to_string(e.timeout) + "\n";
  if (r.non_2xx_3xx()) out += "  Non-2xx or 3xx responses: " + std::to_string(r.non_2xx_3xx()) + "\n";
  std::string codes;
  for (size_t s = 0; s < r.status_counts.size(); ++s)
    if (r.status_counts[s])
      codes += (codes.empty() ? "" : ", ") + std::to_string(s) + " " + std::to_string(r.status_counts[s]);
  if (!codes.empty()) out += "  Status codes: " + codes + "\n";
  if (r.reconnects)
    out += "  Reconnects (server closed the connection): " + std::to_string(r.reconnects) + "\n";
  out += "Requests/sec: " + pad_left(fmt("%.2f", r.achieved_rate()), 10) + "\n";
  if (r.open_model)
    out += "Target rate:  " + pad_left(fmt("%.2f", r.target_rate), 10) + " (" +
           fmt("%.1f", r.target_rate > 0 ? 100 * r.achieved_rate() / r.target_rate : 0) + "% achieved)\n";
  out += "Transfer/sec: " +
         pad_left(format_bytes(r.duration_s > 0 ? static_cast<double>(r.bytes_read) / r.duration_s : 0), 10) +
         "\n";
  return out;
}

std::string format_json(const LoadReport& r, const LoadOptions& o, const std::vector<std::string>& failures) {
  nlohmann::json j;
  j["schema"] = kJsonSchema;
  j["url"] = o.url.to_string();
  j["method"] = o.method;
  j["model"] = r.open_model ? "open" : "closed";
  j["threads"] = r.threads;
  j["connections"] = r.connections;
  j["target_rate"] = r.open_model ? nlohmann::json(r.target_rate) : nlohmann::json(nullptr);
  j["duration_s"] = r.duration_s;
  j["requests"] = r.responses;
  j["achieved_rate"] = r.achieved_rate();
  j["bytes_read"] = r.bytes_read;
  j["transfer_per_s"] = r.duration_s > 0 ? static_cast<double>(r.bytes_read) / r.duration_s : 0;
  j["reconnects"] = r.reconnects;
  nlohmann::json codes = nlohmann::json::object();
  for (size_t s = 0; s < r.status_counts.size(); ++s)
    if (r.status_counts[s]) codes[std::to_string(s)] = r.status_counts[s];
  j["status_codes"] = codes;
  j["non_2xx_3xx"] = r.non_2xx_3xx();
  j["socket_errors"] = {{"connect", r.errors.connect},
                        {"read", r.errors.read},
                        {"write", r.errors.write},
                        {"timeout", r.errors.timeout}};
  j["error_rate"] = r.error_rate();
  j["latency"] = latency_json(r.latency);
  j["latency_uncorrected"] = latency_json(r.uncorrected);
  j["generator_cpu"] = r.generator_cpu;
  j["rate_reached"] = r.rate_reached();
  j["generator_send_lag_p99_us"] =
      r.open_model ? nlohmann::json(r.send_lag.percentile(0.99)) : nlohmann::json(nullptr);
  j["generator_saturated"] = r.generator_saturated();
  j["budget_failures"] = failures;
  j["passed"] = failures.empty();
  return j.dump(2) + "\n";
}

std::string format_progress(const Progress& p) {
  double rate = p.elapsed_s > 0 ? static_cast<double>(p.responses) / p.elapsed_s : 0;
  return fmt("  %5.0fs", p.elapsed_s) + "  " + std::to_string(p.responses) + " requests  " +
         fmt("%.0f", rate) + " req/s  " + std::to_string(p.errors) + " errors";
}

std::vector<std::string> warnings(const LoadReport& r) {
  std::vector<std::string> w;
  if (r.open_model && !r.rate_reached())
    w.push_back("target rate not reached: " + fmt("%.1f", r.achieved_rate()) + " of " +
                fmt("%.1f", r.target_rate) + " requests/sec (" +
                fmt("%.1f", 100 * r.achieved_rate() / r.target_rate) + "%)");
  if (r.generator_saturated())
    w.push_back(
        "the generator ran out of CPU (busiest thread " + fmt("%.0f", 100 * r.generator_cpu) +
        "% busy): figures may describe villager's limit, not the server's; add threads or lower the rate");
  if (r.schedule_slipped())
    w.push_back("the generator fell behind its own schedule (p99 send lag " +
                format_latency(r.send_lag.percentile(0.99)) +
                " on idle connections): the machine or villager was too busy to send on time");
  return w;
}

std::vector<std::string> check_budgets(const LoadReport& r, const Budgets& b) {
  std::vector<std::string> out;
  if (r.responses == 0) out.push_back("no response completed");
  if (b.max_p99_ms) {
    double p99_ms = static_cast<double>(r.latency.percentile(0.99)) / 1000;
    if (r.responses > 0 && p99_ms > *b.max_p99_ms)
      out.push_back("p99 " + fmt("%.2f", p99_ms) + "ms > " + fmt("%g", *b.max_p99_ms) + "ms");
  }
  if (b.max_error_rate && r.error_rate() > *b.max_error_rate)
    out.push_back("error rate " + fmt("%.4f", r.error_rate()) + " > " + fmt("%g", *b.max_error_rate));
  return out;
}

}  // namespace villager::load
