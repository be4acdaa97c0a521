#include "cli/monitor_hooks.h"

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "monitor/canary.h"
#include "monitor/synthetic.h"
#include "pipeline/held.h"
#include "secrets/resolve.h"
#include "targets/control_api.h"
#include "targets/control_client.h"
#include "targets/ssh.h"
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

json sides_json(const monitor::WindowStats& base, const monitor::WindowStats& cand,
                std::chrono::milliseconds base_window, std::chrono::milliseconds cand_window) {
  return {{"baseline", side_json(base, base_window)}, {"candidate", side_json(cand, cand_window)}};
}

monitor::CanaryPolicy canary_policy(const config::EnvironmentConfig& env) {
  monitor::CanaryPolicy p;
  p.min_samples = env.canary_min_samples;
  p.gross_5xx = env.canary_gross_5xx;
  p.gross_latency_ratio = env.canary_gross_latency_ratio;
  p.max_latency_ratio = env.canary_max_latency_ratio;
  p.max_error_rate_increase = env.canary_max_error_increase;
  p.alpha = env.canary_alpha;
  return p;
}

// Synthetic canary traffic at one candidate slot (docs/monitor.md): the samples go to the agent, which
// records them in the candidate's series, since the public listener never sees a direct slot request.
class SyntheticFill {
 public:
  SyntheticFill(targets::ControlClient& client, std::string env, std::string service, std::string digest)
      : client_(client), env_(std::move(env)), service_(std::move(service)), digest_(std::move(digest)) {}

  bool started() const { return traffic_ != nullptr; }
  void start(monitor::SyntheticPlan plan) {
    traffic_ = std::make_unique<monitor::SyntheticTraffic>(std::move(plan));
  }
  // Still sending, or holding samples the agent has not recorded yet.
  bool filling() const { return traffic_ && (!traffic_->done() || recorded_ < traffic_->sent()); }
  void stop() {
    if (traffic_) traffic_->stop();
  }
  // Hands the samples answered so far to the agent.
  Status flush() {
    if (!traffic_) return Ok();
    auto samples = traffic_->take();
    if (samples.empty()) return Ok();
    json batch = json::array();
    for (const auto& x : samples) batch.push_back({x.status, x.latency_us, x.bytes_out});
    json req = {{"digest", digest_}, {"samples", batch}};
    auto body =
        client_.call_ok("POST", "/v1/env/" + env_ + "/service/" + service_ + "/synthetic", req.dump());
    if (!body) return body.error().context("recording synthetic canary samples");
    recorded_ += samples.size();
    return Ok();
  }
  json summary() const {
    json by = json::object();
    for (const auto& [k, n] : traffic_->sent_by_request()) by[k] = n;
    return {{"synthetic", true}, {"sent", traffic_->sent()}, {"recorded", recorded_}, {"by_request", by}};
  }

 private:
  targets::ControlClient& client_;
  std::string env_, service_, digest_;
  std::unique_ptr<monitor::SyntheticTraffic> traffic_;
  size_t recorded_ = 0;
};

// The plan for one step: the environment's list at the candidate slot, the budget what is missing up to
// canary_min_samples (at most max_requests), the API key for protected paths from the environment's secrets.
monitor::SyntheticPlan synthetic_plan(const config::Config& config, const config::EnvironmentConfig& env,
                                      const std::string& service, const std::string& slot_url,
                                      uint64_t have) {
  const auto& c = env.canary_synthetic;
  monitor::SyntheticPlan p;
  p.slot_url = slot_url;
  p.requests = c.requests;
  p.rate = c.rate;
  p.budget = std::min<uint64_t>(c.max_requests, env.canary_min_samples - have);
  const config::ServiceConfig* svc = config.service(service);
  if (!svc || svc->auth_header.empty() || svc->auth_secret.empty()) return p;
  bool any_protected = false;
  for (const auto& q : c.requests)
    any_protected |= monitor::synthetic_path_protected(svc->protected_paths, q.path);
  if (!any_protected) return p;
  if (auto r = secrets::resolve_for_service(config.state_dir(), env.name, *svc)) {
    if (auto it = r->values.find(svc->auth_secret); it != r->values.end()) {
      p.auth_header = svc->auth_header;
      p.auth_value = it->second;
      p.protected_paths = svc->protected_paths;
    }
  }
  return p;
}

struct State {
  std::unique_ptr<targets::ControlClient> client;
  std::map<std::string, monitor::WindowStats> baseline;  // service -> serving release before the deploy
};

using Say = std::function<void(const std::string&)>;

// What an inconclusive verdict at the step's deadline becomes: --accept-inconclusive or on_inconclusive
// = promote continue, hold parks the deploy at this weight, anything else fails the step.
Status inconclusive_at_deadline(const config::EnvironmentConfig& env, const MonitorHookOptions& options,
                                const std::string& service, int weight, const monitor::CanaryResult& r,
                                const Say& say) {
  if (options.accept_inconclusive || env.promote_inconclusive()) {
    say(service + " canary inconclusive at its deadline; continuing (" +
        (options.accept_inconclusive ? "--accept-inconclusive" : "on_inconclusive = promote") + ")");
    return Ok();
  }
  if (env.hold_inconclusive()) {
    say(service + " canary inconclusive at its deadline; holding at " + std::to_string(weight) +
        "% (on_inconclusive = hold)");
    return pipeline::canary_hold("inconclusive at the step's deadline (on_inconclusive = hold): " +
                                 r.summary());
  }
  return FailedPrecondition(
      "canary analysis inconclusive at the step's deadline (on_inconclusive = rollback): " + r.summary());
}

// One canary step of one service, judged against the baseline captured before the deploy. Inconclusive
// holds this weight, re-judging a growing window, until the step's deadline. With synthetic traffic on,
// a candidate short of samples gets them from its slot, once per step.
struct StepJudge {
  const config::Config* config;
  const config::EnvironmentConfig* env;
  std::string env_name;
  MonitorHookOptions options;
  Clock* clock;
  std::shared_ptr<State> state;
  Say say;

  struct Step {
    const std::string& service;
    const std::string& digest;
    const std::string& slot_url;
    int weight;
  };

  Status judge(const Step& step, const std::function<Status()>& aborted, store::StepDetail& detail,
               SyntheticFill& fill) const {
    monitor::WindowStats base =
        state->baseline.count(step.service) ? state->baseline.at(step.service) : monitor::WindowStats{};
    monitor::CanaryPolicy policy = canary_policy(*env);
    auto window = env->step_interval;
    auto deadline = clock->steady_now() + (env->step_deadline() - env->step_interval);
    // Statistical looks: alpha is divided over them (Bonferroni), so re-judging every poll keeps a good
    // release's chance to fail the step at most alpha.
    const monitor::CanaryLooks looks{env->step_interval, env->step_deadline(), kPollInterval};
    policy.alpha /= looks.looks();
    const std::string at = step.service + " canary at " + std::to_string(step.weight) + "%: ";
    for (;; clock->sleep_for(kPollInterval), window += kPollInterval) {
      VILLAGER_RETURN_IF_ERROR(aborted());
      VILLAGER_RETURN_IF_ERROR(fill.flush());
      auto cand = fetch_window(*state->client, env_name, step.service, step.digest, window);
      if (!cand) return cand.error();
      bool at_deadline = clock->steady_now() >= deadline;
      policy.test_look = looks.is_look(window, at_deadline);
      monitor::CanaryResult r = monitor::analyze_canary(base, *cand, policy);
      size_t samples = cand->counts.requests;
      if (!fill.started() && env->canary_synthetic.enabled() && !step.slot_url.empty() &&
          samples < env->canary_min_samples && !at_deadline) {
        auto plan = synthetic_plan(*config, *env, step.service, step.slot_url, samples);
        say(at + std::to_string(samples) + " of " + std::to_string(env->canary_min_samples) +
            " samples; sending up to " + std::to_string(plan.budget) +
            " synthetic requests to the candidate slot " + step.slot_url);
        fill.start(std::move(plan));
      }
      if (fill.started() && samples >= env->canary_min_samples) fill.stop();
      // While synthetic samples are still coming, a pass on too few samples (no baseline) waits for them.
      if (r.verdict == monitor::Verdict::kPass && fill.filling() && samples < env->canary_min_samples &&
          !at_deadline)
        continue;
      if (r.verdict != monitor::Verdict::kInconclusive || at_deadline) say(at + r.summary());
      detail.canary = r.analysis();
      detail.sides = sides_json(base, *cand, env->step_interval, window);
      if (r.verdict == monitor::Verdict::kPass) return Ok();
      if (r.verdict == monitor::Verdict::kFail)
        return FailedPrecondition("canary analysis failed: " + r.summary());
      if (at_deadline) return inconclusive_at_deadline(*env, options, step.service, step.weight, r, say);
    }
  }

  // judge(), then the synthetic traffic's summary into the step's detail and the progress lines.
  Status operator()(const Step& step, const std::function<Status()>& aborted,
                    store::StepDetail& detail) const {
    SyntheticFill fill(*state->client, env_name, step.service, step.digest);
    Status judged = judge(step, aborted, detail, fill);
    if (!fill.started()) return judged;
    fill.stop();
    Status flushed = fill.flush();
    json summary = fill.summary();
    if (detail.canary) detail.synthetic = summary;
    say(step.service + " canary at " + std::to_string(step.weight) + "%: " +
        std::to_string(summary["sent"].get<size_t>()) + " synthetic requests sent to the candidate slot (" +
        std::to_string(summary["recorded"].get<size_t>()) + " recorded)");
    if (!judged.ok()) return judged;
    return flushed;
  }
};

void add_canary_check(pipeline::DeployHooks& hooks, StepJudge judge) {
  // The baseline: each service's serving release over one step's length, before anything moves.
  for (const auto& [service, hp] : judge.env->listen) {
    auto w = fetch_window(*judge.state->client, judge.env_name, service, "", judge.env->step_interval);
    if (w) judge.state->baseline[service] = *w;
  }
  hooks.canary_check = [previous = hooks.canary_check, judge](
                           const std::string& service, const std::string& digest, const std::string& slot_url,
                           int weight, const std::function<Status()>& aborted,
                           store::StepDetail& detail) -> Status {
    if (previous) VILLAGER_RETURN_IF_ERROR(previous(service, digest, slot_url, weight, aborted, detail));
    return judge({service, digest, slot_url, weight}, aborted, detail);
  };
}

// --no-wait: the agent watches and rolls back on its own; the deploy only hands the watch over.
void add_agent_watch(pipeline::DeployHooks& hooks, const std::shared_ptr<State>& state,
                     const std::string& env_name, std::chrono::milliseconds watch, const Say& say) {
  hooks.watch = [previous = hooks.watch, state, env_name, watch, say](store::StepDetail& detail) -> Status {
    if (previous) VILLAGER_RETURN_IF_ERROR(previous(detail));
    json req = {{"watch_ms", watch.count()}};
    auto body = state->client->call_ok("POST", "/v1/env/" + env_name + "/watch", req.dump());
    if (!body) return body.error().context("handing the watch to the agent");
    say("the agent watches for " + std::to_string(watch.count()) + " ms and rolls back on a critical alarm");
    return Ok();
  };
}

// The names of the critical alarms firing in an agent's /alarms answer ("5xx on user, ..."); "" = none.
std::string firing_critical(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  std::string what;
  if (j.is_discarded() || !j.contains("firing_critical")) return what;
  for (auto& [service, names] : j["firing_critical"].items())
    for (const auto& n : names) what += (what.empty() ? "" : ", ") + n.get<std::string>() + " on " + service;
  return what;
}

// The deploy watches itself: the agent's alarms every poll until the environment's `watch` ends.
void add_local_watch(pipeline::DeployHooks& hooks, const std::shared_ptr<State>& state,
                     const std::string& env_name, std::chrono::milliseconds watch, Clock& clock,
                     const Say& say) {
  hooks.watch = [previous = hooks.watch, state, env_name, watch, &clock,
                 say](store::StepDetail& detail) -> Status {
    if (previous) VILLAGER_RETURN_IF_ERROR(previous(detail));
    for (auto end = clock.steady_now() + watch; clock.steady_now() < end; clock.sleep_for(kPollInterval)) {
      auto body = state->client->call_ok("GET", "/v1/env/" + env_name + "/alarms");
      if (!body) {
        say("watch: " + body.error().message);
        continue;
      }
      if (std::string what = firing_critical(*body); !what.empty()) {
        detail.alarms = std::vector<std::string>{what};
        return FailedPrecondition("critical alarm firing during the watch: " + what);
      }
    }
    say("watch passed: no critical alarm fired");
    return Ok();
  };
}

}  // namespace

void add_monitor_hooks(pipeline::DeployHooks& hooks, const config::Config& config,
                       const std::string& env_name, const MonitorHookOptions& options, Clock& clock) {
  const config::EnvironmentConfig* env = config.environment(env_name);
  if (!env || env->target != config::TargetKind::kLocal) return;
  auto token = targets::read_token(config.state_dir(), env_name);
  if (!token) return;  // no agent yet: deploy itself reports that
  auto state = std::make_shared<State>();
  state->client = std::make_unique<targets::ControlClient>(config.agent.control, *token);
  Say say = [p = options.progress](const std::string& line) {
    if (p) p(line);
  };
  if (env->strategy == config::Strategy::kCanary)
    add_canary_check(hooks, StepJudge{&config, env, env_name, options, &clock, state, say});

  bool has_critical = false;
  for (const auto& a : config.monitor.alarms) has_critical |= a.severity == "critical";
  if (!has_critical) return;
  if (options.no_wait)
    add_agent_watch(hooks, state, env_name, env->watch, say);
  else
    add_local_watch(hooks, state, env_name, env->watch, clock, say);
}

namespace {

// One host's reading during a fleet watch.
struct HostWatch {
  std::string error;                                 // why it could not be read
  std::vector<std::string> critical;                 // "5xx on user"
  std::map<std::string, std::string> version;        // service -> the version it serves
  std::map<std::string, monitor::WindowStats> seen;  // service -> its serving release since the watch began
};

HostWatch read_host(targets::Fleet& fleet, size_t i, const std::string& env,
                    std::chrono::milliseconds since) {
  HostWatch w;
  auto t = fleet.host_target(i);
  targets::ControlClient* client = t ? (*t)->control() : nullptr;
  if (!client) {
    w.error = t ? "no agent" : t.error().message;
    return w;
  }
  if (auto body = client->call_ok("GET", "/v1/env/" + env + "/alarms"); !body) {
    w.error = body.error().message;
    return w;
  } else if (json j = json::parse(*body, nullptr, false); j.is_object() && j.contains("firing_critical")) {
    for (auto& [service, names] : j["firing_critical"].items())
      for (const auto& n : names) w.critical.push_back(n.get<std::string>() + " on " + service);
  }
  auto slots = (*t)->slots();
  if (!slots) {
    w.error = slots.error().message;
    return w;
  }
  for (const auto& s : *slots) {
    if (s.role != targets::SlotRole::kServing) continue;
    w.version[s.service] = s.version;
    if (auto win = fetch_window(*client, env, s.service, s.digest, since)) w.seen[s.service] = *win;
  }
  return w;
}

// Per service and release: the hosts' windows summed, and each host's share.
json fleet_summary(targets::Fleet& fleet, const std::vector<HostWatch>& hosts, std::chrono::milliseconds span,
                   std::string& line) {
  std::map<std::pair<std::string, std::string>, monitor::WindowStats> total;  // (service, version)
  std::map<std::pair<std::string, std::string>, json> per_host;
  for (size_t i = 0; i < hosts.size(); ++i)
    for (const auto& [service, w] : hosts[i].seen) {
      auto key = std::make_pair(service, hosts[i].version.at(service));
      total[key].counts.add(w.counts);
      per_host[key][fleet.host(i).name] = {{"requests", w.counts.requests}, {"errors_5xx", w.errors_5xx()}};
    }
  json out = json::array();
  std::vector<std::string> parts;
  for (const auto& [key, w] : total) {
    json j = side_json(w, span);
    j["service"] = key.first;
    j["version"] = key.second;
    j["hosts"] = per_host[key];
    out.push_back(j);
    char p99[32];
    snprintf(p99, sizeof p99, "%.1f", w.latency_quantile(0.99) * 1000);
    parts.push_back(key.first + " " + key.second + " on " + std::to_string(per_host[key].size()) +
                    " hosts: " + std::to_string(w.counts.requests) + " requests, " +
                    std::to_string(w.errors_5xx()) + " 5xx, p99 " + p99 + " ms");
  }
  line = join(parts, "; ");
  return out;
}

}  // namespace

void add_fleet_watch(pipeline::DeployHooks& hooks, const config::Config& config, const std::string& env_name,
                     targets::Fleet& fleet, const pipeline::ProgressFn& progress, Clock& clock) {
  const config::EnvironmentConfig* env = config.environment(env_name);
  if (!env || env->target != config::TargetKind::kSsh || env->watch.count() <= 0) return;
  bool has_critical = false;
  for (const auto& a : config.monitor.alarms) has_critical |= a.severity == "critical";
  if (!has_critical) return;
  auto previous = hooks.watch;
  hooks.watch = [=, &fleet, &clock](store::StepDetail& detail) -> Status {
    if (previous) VILLAGER_RETURN_IF_ERROR(previous(detail));
    auto start = clock.steady_now();
    std::vector<HostWatch> hosts(fleet.size());
    for (;;) {
      auto since = std::max<std::chrono::milliseconds>(
          std::chrono::milliseconds(1000),
          std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - start));
      targets::in_parallel(fleet.size(), [&](size_t i) { hosts[i] = read_host(fleet, i, env_name, since); });
      std::vector<std::string> firing, unread;
      for (size_t i = 0; i < hosts.size(); ++i) {
        for (const auto& c : hosts[i].critical) firing.push_back(c + " (" + fleet.host(i).name + ")");
        if (!hosts[i].error.empty()) unread.push_back(fleet.host(i).name + ": " + hosts[i].error);
      }
      std::string line;
      detail.fleet = fleet_summary(fleet, hosts, since, line);
      detail.unread = unread;
      if (!firing.empty()) {
        detail.alarms = firing;
        return FailedPrecondition("critical alarm firing during the watch: " + join(firing, ", "));
      }
      if (clock.steady_now() >= start + env->watch) {
        if (progress)
          progress("watch passed on " + std::to_string(fleet.size() - unread.size()) + " of " +
                   std::to_string(fleet.size()) + " hosts, no critical alarm fired: " + line +
                   (unread.empty() ? "" : "; not read: " + join(unread, "; ")));
        return Ok();
      }
      clock.sleep_for(kPollInterval);
    }
  };
}

}  // namespace villager::cli
