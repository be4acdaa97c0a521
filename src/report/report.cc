#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/strings.h"
#include "store/step_kinds.h"

namespace villager::report {

namespace {

using json = nlohmann::json;
using store::Deployment;
using store::DeploymentKind;
using store::DeploymentStatus;

constexpr double kMsPerDay = 24.0 * 3600 * 1000;
// The release role's targets (team/villager/roles/devops/ROLE.md). Uptime (99.9%+) and approval to
// deployed (under 15m) have no data source in the store yet.
constexpr double kSmokeTargetPercent = 100.0;
constexpr double kRollbackTargetMs = 5 * 60 * 1000;
constexpr double kSuccessTargetPercent = 99.0;
constexpr double kCoverageTargetPercent = 100.0;

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string duration_text(double ms) {
  return format_duration(std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms))));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

Figure no_data(std::string key, std::string name, std::string unit, std::string target, std::string why) {
  Figure f;
  f.key = std::move(key);
  f.name = std::move(name);
  f.unit = std::move(unit);
  f.target = std::move(target);
  f.display = "no data";
  f.note = std::move(why);
  return f;
}

Figure rate(std::string key, std::string name, int hits, int total, std::string target, double target_value,
            bool at_least, std::string note, std::string why_none) {
  if (total == 0) return no_data(key, name, "percent", target, why_none);
  Figure f;
  f.key = std::move(key);
  f.name = std::move(name);
  f.unit = "percent";
  f.value = 100.0 * hits / total;
  f.samples = total;
  f.display = fixed(*f.value, 1) + "% (" + std::to_string(hits) + " of " + std::to_string(total) + ")";
  f.target = std::move(target);
  if (target_value >= 0) f.met = at_least ? *f.value >= target_value - 1e-9 : *f.value <= target_value + 1e-9;
  f.note = std::move(note);
  return f;
}

// A figure over durations in ms: no_data(why_none) when there are none, else stat(ms), displayed as
// "1.2s (3 <counted>)".
template <class Stat>
Figure durations(std::string key, std::string name, const std::vector<double>& ms, Stat stat,
                 const std::string& counted, std::string target, std::string note, std::string why_none) {
  if (ms.empty())
    return no_data(std::move(key), std::move(name), "ms", std::move(target), std::move(why_none));
  Figure f;
  f.key = std::move(key);
  f.name = std::move(name);
  f.unit = "ms";
  f.value = stat(ms);
  f.samples = static_cast<int>(ms.size());
  f.display = duration_text(*f.value) + " (" + std::to_string(f.samples) + " " + counted + ")";
  f.target = std::move(target);
  f.note = std::move(note);
  return f;
}

bool reached_traffic(const Deployment& d) {
  // A deploy that failed before any traffic moved ("failed") changed nothing in production.
  return d.kind == DeploymentKind::kDeploy &&
         (d.status == DeploymentStatus::kSucceeded || d.status == DeploymentStatus::kRolledBack);
}

// Probes through the public listeners and url environments: pending ones (before the first healthy
// cutover) are left out; an auth failure is an answer, so up; the time window and the probes during
// villager's own deploys are shown.
Figure uptime_figure(const store::Availability& a) {
  if (a.samples == 0)
    return no_data("uptime", "Production uptime (probes)", "percent", "99.9%+",
                   a.pending ? std::to_string(a.pending) + " probes before the first deploy, none after"
                             : "no probe of a production environment in the window");
  Figure f;
  f.key = "uptime";
  f.name = "Production uptime (probes)";
  f.unit = "percent";
  f.value = 100.0 * double(a.ok) / double(a.samples);
  f.samples = static_cast<int>(a.samples);
  f.display = fixed(*f.value, 3) + "% (" + std::to_string(a.ok) + " of " + std::to_string(a.samples) +
              " probes over " + duration_text(double(a.last_ts - a.first_ts)) + ")";
  f.target = "99.9%+";
  f.met = *f.value >= 99.9 - 1e-9;
  f.note = "health probes of gated environments from " + format_rfc3339(from_unix_millis(a.first_ts)) +
           " to " + format_rfc3339(from_unix_millis(a.last_ts)) + "; " + std::to_string(a.during_deploy_ok) +
           " of " + std::to_string(a.during_deploy) + " probes during villager's own deploys up";
  if (a.pending) f.note += "; " + std::to_string(a.pending) + " before the first deploy left out";
  if (a.auth_failed)
    f.note += "; " + std::to_string(a.auth_failed) + " answered 401/403 (alive, auth contract broken)";
  return f;
}

// Downtime from the same probes: each failed probe counts until the next probe, so it is within one
// probe interval of the outage an outside observer sees.
Figure downtime_figure(const store::Availability& a) {
  if (a.samples == 0)
    return no_data("downtime", "Production downtime (probes)", "ms", "", "no probe after the first deploy");
  Figure f;
  f.key = "downtime";
  f.name = "Production downtime (probes)";
  f.unit = "ms";
  f.value = double(a.downtime_ms);
  f.samples = static_cast<int>(a.samples - a.ok);
  f.display = duration_text(*f.value) + " (" + std::to_string(a.samples - a.ok) + " failed probes)";
  f.note = "each failed probe counts until the next probe of the same listener";
  return f;
}

// Deploys stopped before any user saw them, by the step that stopped them: the pipeline's catches.
Figure caught_figure(const std::map<std::string, int>& caught, int deploys) {
  Figure f;
  f.key = "stopped_before_users";
  f.name = "Stopped before users (catches)";
  f.unit = "count";
  int n = 0;
  std::string by;
  for (const auto& [step, count] : caught) {
    n += count;
    by += (by.empty() ? "" : ", ") + step + " " + std::to_string(count);
  }
  f.value = n;
  f.samples = deploys;
  f.display =
      std::to_string(n) + " of " + std::to_string(deploys) + " deploys" + (by.empty() ? "" : " (" + by + ")");
  f.note = "deploys that failed before traffic moved: not counted against the success or change failure rate";
  return f;
}

// What the window's deployment rows add up to: the counts every figure is computed from.
struct Tally {
  int deploys = 0, succeeded = 0, smoke_total = 0, smoke_passed = 0;
  std::map<std::string, int> caught;  // deploys stopped before users, by the step that stopped them
  int changes = 0, failed_changes = 0, rework = 0, lead_unknown = 0;
  std::vector<double> rollback_ms, recovery_ms, lead_ms, waits;  // waits: approval to deployed
  std::vector<RollbackTiming> rollbacks;                         // what rollback_ms holds, row by row
};

void add_rollback(Tally& t, const Deployment& d, const char* kind, int64_t detected, int64_t restored) {
  t.rollback_ms.push_back(double(restored - detected));
  t.rollbacks.push_back({d.id, d.environment, d.service, kind, detected, restored, restored - detected});
}

Result<Tally> tally_deployments(store::Store& store, const ReportOptions& options) {
  store::DeploymentFilter filter;
  filter.environment = options.environment;
  filter.limit = 0;
  auto all = store::list_deployments(store, filter);  // newest first; earlier ones are context
  if (!all) return all.error().context("computing the report");
  std::vector<Deployment> history(all->rbegin(), all->rend());  // oldest first
  auto in_window = [&](const Deployment& d) {
    return d.started_at >= options.since_ms && d.started_at < options.until_ms;
  };
  // Per environment/service, oldest first.
  std::map<std::string, std::vector<const Deployment*>> by_target;
  for (const auto& d : history) by_target[d.environment + "/" + d.service].push_back(&d);

  // The manual rollback that undid a successful deploy: the next rollback of the same target whose
  // from_digest is the deploy's digest, before any later deploy.
  auto undone_by = [&](const Deployment& d) -> const Deployment* {
    const auto& seq = by_target[d.environment + "/" + d.service];
    auto it = std::find(seq.begin(), seq.end(), &d);
    for (++it; it != seq.end(); ++it) {
      if ((*it)->kind == DeploymentKind::kDeploy && reached_traffic(**it)) return nullptr;
      if ((*it)->kind == DeploymentKind::kRollback && (*it)->from_digest == d.digest &&
          (*it)->status == DeploymentStatus::kSucceeded)
        return *it;
    }
    return nullptr;
  };
  auto failed_change = [&](const Deployment& d) {
    return d.status == DeploymentStatus::kRolledBack ||
           (d.status == DeploymentStatus::kSucceeded && undone_by(d) != nullptr);
  };

  Tally t;
  for (const auto& d : history) {
    if (!in_window(d) || d.status == DeploymentStatus::kRunning) continue;
    auto steps = store::list_steps(store, d.id);
    if (!steps) return steps.error().context("computing the report");
    std::optional<int64_t> first_failure;
    std::string first_failed_step = "before any step";  // a deploy refused by the gate records no step
    for (const auto& s : *steps) {
      if (s.status == store::StepStatus::kFailed && !first_failure) {
        first_failure = s.finished_at.value_or(s.started_at);
        first_failed_step = std::string(store::step_kind_name(store::parse_step(s.name).kind));
      }
      if (d.kind == DeploymentKind::kDeploy &&
          store::parse_step(s.name).kind == store::StepKind::kPostTrafficSmoke &&
          s.status != store::StepStatus::kRunning && s.status != store::StepStatus::kSkipped) {
        ++t.smoke_total;
        if (s.status == store::StepStatus::kSucceeded) ++t.smoke_passed;
      }
    }
    int64_t finished = d.finished_at.value_or(d.started_at);

    if (d.kind == DeploymentKind::kRollback) {
      // A manual rollback: detected when someone ran it, restored when it finished.
      if (d.status == DeploymentStatus::kSucceeded) add_rollback(t, d, "manual", d.started_at, finished);
      continue;
    }
    ++t.deploys;
    if (d.status == DeploymentStatus::kSucceeded) ++t.succeeded;
    if (d.status == DeploymentStatus::kFailed) ++t.caught[first_failed_step];
    if (d.status == DeploymentStatus::kRolledBack)  // automatic: detected by the failing step
      add_rollback(t, d, "automatic", first_failure.value_or(d.started_at), finished);
    if (!reached_traffic(d)) continue;
    ++t.changes;
    if (failed_change(d)) {
      ++t.failed_changes;
      if (d.status == DeploymentStatus::kRolledBack) {
        t.recovery_ms.push_back(double(finished - first_failure.value_or(d.started_at)));
      } else if (const Deployment* r = undone_by(d)) {
        // Failed in production from the moment it finished deploying until the rollback restored.
        t.recovery_ms.push_back(double(r->finished_at.value_or(r->started_at) - finished));
      }
    }
    // Rework: the previous change to this target failed, so this deploy is (presumably) its fix.
    const auto& seq = by_target[d.environment + "/" + d.service];
    for (auto it = std::find(seq.rbegin(), seq.rend(), &d) + 1; it != seq.rend(); ++it) {
      if (!reached_traffic(**it)) continue;
      if (failed_change(**it)) ++t.rework;
      break;
    }
    if (d.status == DeploymentStatus::kSucceeded) {
      auto rel = store::get_release(store, d.service, d.digest);
      if (rel && rel->commit_time > 0)
        t.lead_ms.push_back(double(finished - rel->commit_time));
      else
        ++t.lead_unknown;
    }
  }

  // Approval to deployed: recorded by deploy with each gated deployment (last approval to 100%).
  for (const auto& d : history) {
    if (!in_window(d) || d.kind != DeploymentKind::kDeploy) continue;
    auto j = nlohmann::json::parse(d.detail, nullptr, false);
    if (j.is_object() && j.contains("approval_to_deployed_ms") && j["approval_to_deployed_ms"].is_number())
      t.waits.push_back(j["approval_to_deployed_ms"].get<double>());
  }
  return t;
}

// The release role's targets (docs/report.md).
void add_targets(Report& report, store::Store& store, const config::Config* config,
                 const ReportOptions& options, const Tally& t) {
  // Targets.
  report.targets.push_back(rate("smoke_pass_rate", "Smoke pass rate after deployment", t.smoke_passed,
                                t.smoke_total, "100%", kSmokeTargetPercent, true,
                                "post-traffic smoke suite runs recorded with deploys",
                                "no post-traffic smoke run recorded in the window"));
  {
    Figure f = durations("mean_time_to_rollback", "Mean time to rollback", t.rollback_ms, mean, "rollbacks",
                         "under 5m", "detection (failing step, or the rollback command) to restored",
                         "no rollback in the window");
    if (f.value) f.met = *f.value < kRollbackTargetMs;
    report.targets.push_back(f);
  }
  {
    // Uptime: the agent's probes through the public listener of every gated (production-like)
    // environment; an environment without approvals is not production.
    store::Availability all;
    if (config) {
      for (const auto& env : config->environments) {
        if (env.requires_roles.empty() && env.name != "production") continue;
        if (!options.environment.empty() && env.name != options.environment) continue;
        for (const auto& s : config->services) {
          auto a = store::probe_availability(store, env.name, s.name, "", options.since_ms, options.until_ms);
          if (a) all.add(*a);
        }
      }
    }
    report.targets.push_back(uptime_figure(all));
    report.targets.push_back(downtime_figure(all));
  }
  // DORA's definition: of the t.changes that reached users, those that did not fail. A deploy the pipeline
  // stopped before users (gate, rehearsal, pre-traffic smoke) is the pipeline doing its job: counted apart.
  report.targets.push_back(rate("deployment_success_rate", "Deployment success rate",
                                t.changes - t.failed_changes, t.changes, "99%+", kSuccessTargetPercent, true,
                                "deploys that reached traffic and were not rolled back",
                                "no deploy reached traffic in the window"));
  report.targets.push_back(caught_figure(t.caught, t.deploys));
  {
    const std::vector<double>& waits = t.waits;
    Figure f =
        durations("approval_to_deployed", "Approval to deployed (median, worst)", waits, median, "deploys",
                  "under 15m", "last required approval to 100% traffic", "no gated deploy in the window");
    if (f.value) {
      const double worst = *std::max_element(waits.begin(), waits.end());
      f.display = duration_text(*f.value) + ", worst " + duration_text(worst) + " (" +
                  std::to_string(f.samples) + " deploys)";
      f.met = worst < 15.0 * 60 * 1000;
    }
    report.targets.push_back(f);
  }
  if (!config) {
    report.targets.push_back(
        no_data("monitoring_coverage", "Monitoring coverage", "percent", "100%", "no villager.toml loaded"));
  } else {
    int total = 0, covered = 0;
    for (const auto& env : config->environments) {
      if (!options.environment.empty() && env.name != options.environment) continue;
      for (const auto& s : config->services) {
        if (!env.serves(s.name)) continue;
        ++total;
        for (const auto& a : config->monitor.alarms)
          if (a.service.empty() || a.service == s.name) {
            ++covered;
            break;
          }
      }
    }
    report.targets.push_back(rate(
        "monitoring_coverage", "Monitoring coverage", covered, total, "100%", kCoverageTargetPercent, true,
        "services with at least one alarm rule in villager.toml", "no service in the environment"));
  }
}

// The five DORA figures.
void add_dora(Report& report, const ReportOptions& options, const Tally& t) {
  // DORA.
  double days = std::max(1.0, double(options.until_ms - options.since_ms)) / kMsPerDay;
  {
    Figure f;
    f.key = "deployment_frequency";
    f.name = "Deployment frequency";
    f.unit = "per_day";
    f.value = t.succeeded / days;
    f.samples = t.succeeded;
    f.display = fixed(*f.value, 2) + "/day (" + std::to_string(t.succeeded) + " in " +
                duration_text(double(options.until_ms - options.since_ms)) + ")";
    f.note = "successful deploys per day";
    report.dora.push_back(f);
  }
  {
    Figure f = durations("lead_time", "Lead time for changes (median)", t.lead_ms, median, "deploys", "",
                         "commit time to deployed", "no successful deploy with a known commit time");
    if (f.value && t.lead_unknown)
      f.note += "; " + std::to_string(t.lead_unknown) + " deploys without a commit time left out";
    report.dora.push_back(f);
  }
  report.dora.push_back(rate("change_failure_rate", "Change failure rate", t.failed_changes, t.changes, "",
                             -1, true,
                             "deploys that reached traffic and were rolled back (automatically or later)",
                             "no deploy reached traffic in the window"));
  report.dora.push_back(durations(
      "failed_deployment_recovery_time", "Failed deployment recovery time (median)", t.recovery_ms, median,
      "failures", "", "failure detected (or change live, for a later manual rollback) to restored",
      "no failed deployment in the window"));
  report.dora.push_back(rate("deployment_rework_rate", "Deployment rework rate", t.rework, t.changes, "", -1,
                             true, "deploys whose previous change to the same service failed",
                             "no deploy reached traffic in the window"));
}

}  // namespace

Result<Report> compute_report(store::Store& store, const config::Config* config,
                              const ReportOptions& options) {
  Report report;
  report.window = options;
  auto t = tally_deployments(store, options);
  if (!t) return t.error();
  add_targets(report, store, config, options, *t);
  add_dora(report, options, *t);
  return report;
}

Result<std::vector<RollbackTiming>> rollback_timings(store::Store& store, const ReportOptions& options) {
  auto t = tally_deployments(store, options);
  if (!t) return t.error();
  return t->rollbacks;
}

std::string format_report(const Report& r) {
  std::string out =
      "Villager report: " + (r.window.environment.empty() ? "every environment" : r.window.environment) +
      ", " + format_rfc3339(from_unix_millis(r.window.since_ms)) + " to " +
      format_rfc3339(from_unix_millis(r.window.until_ms)) + "\n\n";
  auto line = [](std::string_view a, std::string_view b, std::string_view c, std::string_view d) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-42.*s %-34.*s %-10.*s %.*s", int(a.size()), a.data(), int(b.size()),
                  b.data(), int(c.size()), c.data(), int(d.size()), d.data());
    return std::string(trim(buf)) + "\n";
  };
  out += line("TARGET", "MEASURED", "TARGET", "MET");
  for (const auto& f : r.targets)
    out += line(f.name, f.display, f.target, f.met ? (*f.met ? "yes" : "NO") : "-");
  out += "\n" + line("DORA", "MEASURED", "", "");
  for (const auto& f : r.dora) out += line(f.name, f.display, "", "");
  out += "\nNotes:\n";
  for (const auto* list : {&r.targets, &r.dora})
    for (const auto& f : *list) out += "  " + f.name + ": " + f.note + "\n";
  return out;
}

std::string report_to_json(const Report& r) {
  auto figures = [](const std::vector<Figure>& list) {
    json out = json::array();
    for (const auto& f : list) {
      json j = {{"key", f.key},       {"name", f.name},       {"unit", f.unit}, {"display", f.display},
                {"target", f.target}, {"samples", f.samples}, {"note", f.note}};
      j["value"] = f.value ? json(*f.value) : json(nullptr);
      j["met"] = f.met ? json(*f.met) : json(nullptr);
      if (f.worst) j["worst"] = *f.worst;
      out.push_back(j);
    }
    return out;
  };
  json j = {{"environment", r.window.environment.empty() ? json(nullptr) : json(r.window.environment)},
            {"since", format_rfc3339(from_unix_millis(r.window.since_ms))},
            {"until", format_rfc3339(from_unix_millis(r.window.until_ms))},
            {"targets", figures(r.targets)},
            {"dora", figures(r.dora)}};
  return j.dump(2);
}

}  // namespace villager::report
