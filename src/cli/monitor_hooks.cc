#include "cli/monitor_hooks.h"

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "monitor/canary.h"
#include "pipeline/held.h"
#include "targets/control_api.h"
#include "targets/control_client.h"
#include "targets/tokens.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

// How often the watch and an inconclusive canary re-read the agent.
constexpr std::chrono::milliseconds kPollInterval{500};

Result<monitor::WindowStats> fetch_window(targets::ControlClient& client, const std::string& env,
                                          const std::string& service, const std::string& digest,
                                          std::chrono::milliseconds window) {
  namespace api = targets::control_api;
  auto body = client.call_ok("POST", api::service_path(env, service, "window"),
                             api::to_json(api::WindowQuery{window.count(), digest}));
  if (!body) return body.error().context("reading " + service + " metrics from the agent");
  json j = json::parse(*body, nullptr, false);
  if (j.is_discarded()) return Internal("the agent's window answer is not JSON");
  monitor::WindowStats w;
  w.counts.requests = j.value("requests", uint64_t{0});
  auto classes = j.value("classes", std::vector<uint64_t>{});
  for (size_t i = 0; i < classes.size() && i < w.counts.classes.size(); ++i) w.counts.classes[i] = classes[i];
  for (const auto& b : j.value("buckets", json::array()))
    w.counts.buckets.emplace_back(b[0].get<uint32_t>(), b[1].get<uint64_t>());
  w.covered = std::chrono::milliseconds(j.value("covered_ms", int64_t{0}));
  return w;
}

// The judge's rules from the environment's config (docs/monitor.md, "Canary analysis").
// Each side's rate, errors and latency quantiles beside the verdict: what the dashboard plots.
json side_json(const monitor::WindowStats& w, std::chrono::milliseconds window) {
  auto span = w.covered.count() > 0 ? w.covered : window;
  json quantiles = json::array();
  for (double q : {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999})
    quantiles.push_back({q, w.latency_quantile(q)});
  return {{"requests", w.counts.requests},
          {"errors_5xx", w.errors_5xx()},
          {"error_rate", w.error_rate()},
          {"window_ms", span.count()},
          {"rate_per_s", span.count() > 0 ? double(w.counts.requests) * 1000.0 / double(span.count()) : 0.0},
          {"p50", w.latency_quantile(0.5)},
          {"p90", w.latency_quantile(0.9)},
          {"p99", w.latency_quantile(0.99)},
          {"quantiles", quantiles}};
}

std::string with_sides(const std::string& verdict_json, const monitor::WindowStats& base,
                       const monitor::WindowStats& cand, std::chrono::milliseconds base_window,
                       std::chrono::milliseconds cand_window) {
  json j = json::parse(verdict_json, nullptr, false);
  if (j.is_discarded()) return verdict_json;
  j["sides"] = {{"baseline", side_json(base, base_window)}, {"candidate", side_json(cand, cand_window)}};
  return j.dump();
}

monitor::CanaryPolicy canary_policy(const config::EnvironmentConfig& env) {
  monitor::CanaryPolicy p;
  p.min_samples = env.canary_min_samples;
  p.gross_5xx = env.canary_gross_5xx;
  p.gross_latency_ratio = env.canary_gross_latency_ratio;
  return p;
}

struct State {
  std::unique_ptr<targets::ControlClient> client;
  std::map<std::string, monitor::WindowStats> baseline;  // service -> serving release before the deploy
};

}  // namespace

void add_monitor_hooks(pipeline::DeployHooks& hooks, const config::Config& config,
                       const std::string& env_name, const MonitorHookOptions& options, Clock& clock) {
  const config::EnvironmentConfig* env = config.environment(env_name);
  if (!env || env->target != config::TargetKind::kLocal) return;
  auto token = targets::read_token(config.state_dir(), env_name);
  if (!token) return;  // no agent yet: deploy itself reports that
  auto state = std::make_shared<State>();
  state->client = std::make_unique<targets::ControlClient>(config.agent.control, *token);
  auto say = [p = options.progress](const std::string& line) {
    if (p) p(line);
  };

  if (env->strategy == config::Strategy::kCanary) {
    // The baseline: each service's serving release over one step's length, before anything moves.
    for (const auto& [service, hp] : env->listen) {
      auto w = fetch_window(*state->client, env_name, service, "", env->step_interval);
      if (w) state->baseline[service] = *w;
    }
    auto previous = hooks.canary_check;
    hooks.canary_check = [=, &clock](const std::string& service, const std::string& digest, int weight,
                                     std::string& detail) -> Status {
      if (previous) VILLAGER_RETURN_IF_ERROR(previous(service, digest, weight, detail));
      monitor::WindowStats base =
          state->baseline.count(service) ? state->baseline.at(service) : monitor::WindowStats{};
      // Inconclusive holds this weight, re-judging a growing window, until the step's deadline; then the
      // environment's on_inconclusive policy (or --accept-inconclusive) decides.
      monitor::CanaryPolicy policy = canary_policy(*env);
      auto window = env->step_interval;
      auto deadline = clock.steady_now() + (env->step_deadline() - env->step_interval);
      for (;;) {
        auto cand = fetch_window(*state->client, env_name, service, digest, window);
        if (!cand) return cand.error();
        monitor::CanaryResult r = monitor::analyze_canary(base, *cand, policy);
        bool at_deadline = clock.steady_now() >= deadline;
        if (r.verdict != monitor::Verdict::kInconclusive || at_deadline)
          say(service + " canary at " + std::to_string(weight) + "%: " + r.summary());
        detail = with_sides(r.to_json(), base, *cand, env->step_interval, window);
        if (r.verdict == monitor::Verdict::kPass) return Ok();
        if (r.verdict == monitor::Verdict::kFail)
          return FailedPrecondition("canary analysis failed: " + r.summary());
        if (at_deadline) {
          if (options.accept_inconclusive || env->promote_inconclusive()) {
            say(service + " canary inconclusive at its deadline; continuing (" +
                (options.accept_inconclusive ? "--accept-inconclusive" : "on_inconclusive = promote") + ")");
            return Ok();
          }
          if (env->hold_inconclusive()) {
            say(service + " canary inconclusive at its deadline; holding at " + std::to_string(weight) +
                "% (on_inconclusive = hold)");
            return pipeline::canary_hold("inconclusive at the step's deadline (on_inconclusive = hold): " +
                                         r.summary());
          }
          return FailedPrecondition(
              "canary analysis inconclusive at the step's deadline (on_inconclusive = "
              "rollback): " +
              r.summary());
        }
        clock.sleep_for(kPollInterval);
        window += kPollInterval;
      }
    };
  }

  bool has_critical = false;
  for (const auto& a : config.monitor.alarms) has_critical |= a.severity == "critical";
  if (!has_critical) return;
  auto previous_watch = hooks.watch;
  if (options.no_wait) {
    hooks.watch = [=](std::string& detail) -> Status {
      if (previous_watch) VILLAGER_RETURN_IF_ERROR(previous_watch(detail));
      json req = {{"watch_ms", env->watch.count()}};
      auto body = state->client->call_ok("POST", "/v1/env/" + env_name + "/watch", req.dump());
      if (!body) return body.error().context("handing the watch to the agent");
      say("the agent watches for " + std::to_string(env->watch.count()) +
          " ms and rolls back on a critical alarm");
      return Ok();
    };
    return;
  }
  hooks.watch = [=, &clock](std::string& detail) -> Status {
    if (previous_watch) VILLAGER_RETURN_IF_ERROR(previous_watch(detail));
    auto end = clock.steady_now() + env->watch;
    while (clock.steady_now() < end) {
      auto body = state->client->call_ok("GET", "/v1/env/" + env_name + "/alarms");
      if (body) {
        json j = json::parse(*body, nullptr, false);
        if (!j.is_discarded() && j.contains("firing_critical") && !j["firing_critical"].empty()) {
          std::string what;
          for (auto& [service, names] : j["firing_critical"].items())
            for (const auto& n : names)
              what += (what.empty() ? "" : ", ") + n.get<std::string>() + " on " + service;
          detail = json{{"alarms", json::array({what})}}.dump();
          return FailedPrecondition("critical alarm firing during the watch: " + what);
        }
      } else {
        say("watch: " + body.error().message);
      }
      clock.sleep_for(kPollInterval);
    }
    say("watch passed: no critical alarm fired");
    return Ok();
  };
}

}  // namespace villager::cli
