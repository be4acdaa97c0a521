#include "report/review.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/redact.h"
#include "base/strings.h"
#include "store/step_detail.h"
#include "store/step_kinds.h"

namespace villager::report {

namespace {

using json = nlohmann::json;

constexpr std::string_view kRole = "Villager DevOps";
constexpr std::string_view kNotRecorded = "Not recorded.";
// Bound on the -2, -3, ... suffixes tried for one document name (a loop must end).
constexpr int kMaxSuffix = 1000;

std::string when(int64_t ms) {
  return format_rfc3339(from_unix_millis(ms));
}
std::string took(int64_t ms) {
  return format_duration(std::chrono::milliseconds(ms));
}
// A table cell: no newlines, and a '|' that does not end the cell.
std::string cell(std::string_view s) {
  return replace_all(replace_all(std::string(s), "\n", " "), "|", "\\|");
}

std::string status_text(store::DeploymentStatus s) {
  switch (s) {
    case store::DeploymentStatus::kRunning:
      return "Running";
    case store::DeploymentStatus::kSucceeded:
      return "Succeeded";
    case store::DeploymentStatus::kFailed:
      return "Failed";
    case store::DeploymentStatus::kRolledBack:
      return "Rolled back";
  }
  return "Unknown";
}

json parse_detail(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : json::object();
}
std::string json_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}
int64_t json_int(const json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : fallback;
}
int64_t step_duration(const store::DeploymentStep& s, const store::StepDetail& d) {
  return d.duration_ms.value_or(s.finished_at ? *s.finished_at - s.started_at : 0);
}

// Suite-level smoke rows from a step, or per-check rows when the smoke hook recorded them as
// detail.smoke = [{check, passed, duration_ms, detail}].
void add_smoke_rows(const store::DeploymentStep& s, const store::StepDetail& d, const std::string& phase,
                    const std::string& suite, std::vector<SmokeResult>& out) {
  // The smoke suite's own JSON report (docs/smoke.md): one row per check and service.
  if (d.smoke.is_object() && d.smoke.contains("checks")) {
    for (const auto& c : d.smoke["checks"]) {
      std::string name = json_string(c, "name");
      if (std::string svc = json_string(c, "service"); !svc.empty()) name += " (" + svc + ")";
      std::string why;
      if (c.value("skipped", false)) why = "not applicable";
      if (auto f = c.find("failures"); f != c.end() && f->is_array() && !f->empty())
        why = json_string((*f)[0], "what") + ": expected " + json_string((*f)[0], "expected") + ", got " +
              json_string((*f)[0], "actual");
      // Waived findings (docs/smoke.md, "Waivers"): the check ran, found them, and signed waivers let
      // them through; the document says who, why and until when.
      std::vector<std::string> waived;
      if (auto f = c.find("failures"); f != c.end() && f->is_array())
        for (const auto& fj : *f)
          if (auto w = fj.find("waived"); w != fj.end() && w->is_object())
            waived.push_back(json_string(fj, "fingerprint") + " waived by " + json_string(*w, "by") +
                             " until " + json_string(*w, "until") +
                             (json_string(*w, "note").empty() ? "" : ": " + json_string(*w, "note")));
      if (c.value("waived", false)) why.clear();
      out.push_back(
          {name, phase, c.value("passed", false), json_int(c, "duration_ms"), why, join(waived, "; ")});
    }
    return;
  }
  if (d.smoke.is_array()) {
    for (const auto& c : d.smoke)
      out.push_back({json_string(c, "check"), phase, c.value("passed", false), json_int(c, "duration_ms"),
                     json_string(c, "detail"), ""});
    return;
  }
  out.push_back({suite, phase, s.status == store::StepStatus::kSucceeded, step_duration(s, d), d.error, ""});
}

std::string step_outcome(const store::DeploymentStep& s, const store::StepDetail& d) {
  std::string out = std::string(store::to_string(s.status));
  if (s.finished_at) out += " in " + took(step_duration(s, d));
  if (!d.error.empty()) out += ": " + d.error;
  return out;
}

void table(std::string& out, const std::vector<std::string>& head,
           const std::vector<std::vector<std::string>>& rows) {
  out += "|";
  for (const auto& h : head) out += " " + h + " |";
  out += "\n|";
  for (size_t i = 0; i < head.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& r : rows) {
    out += "|";
    for (const auto& c : r) out += " " + cell(c) + " |";
    out += "\n";
  }
}

}  // namespace

bool ReviewInput::is_rollback() const {
  return deployment.kind == store::DeploymentKind::kRollback ||
         deployment.status == store::DeploymentStatus::kRolledBack;
}

std::vector<issues::Issue> open_issues(const std::vector<issues::Issue>& all) {
  static const std::set<std::string> kClosed = {"done",     "closed",    "resolved", "released",
                                                "answered", "mitigated", "accepted"};
  std::vector<issues::Issue> out;
  for (const auto& i : all)
    if (!kClosed.count(to_lower(i.status))) out.push_back(i);
  return out;
}

namespace {

// What a rollback of this deployment returns to: for a deploy what served before, for a rollback the
// release it restored.
Result<RollbackPlan> rollback_plan_of(store::Store& store, const store::Deployment& dep,
                                      const std::string& previous_version) {
  RollbackPlan plan;
  if (dep.kind == store::DeploymentKind::kRollback) {
    plan.previous_version = dep.version;
    plan.previous_digest = dep.digest;
    return plan;
  }
  plan.previous_digest = dep.from_digest;
  plan.previous_version = previous_version;
  if (plan.previous_version.empty() && !dep.from_digest.empty()) {
    auto history = store::known_good_history(store, dep.environment, dep.service);
    if (!history) return history.error();
    for (const auto& k : *history)
      if (k.digest == dep.from_digest) {
        plan.previous_version = k.version;
        break;
      }
  }
  return plan;
}

// The watch window's metrics table and the alarms it saw.
void read_watch(const store::StepDetail& detail, ReviewInput& in) {
  if (detail.metrics.is_array()) {
    std::vector<MonitoringRow> rows;
    for (const auto& m : detail.metrics)
      rows.push_back({json_string(m, "metric"), json_string(m, "baseline"), json_string(m, "candidate"),
                      json_string(m, "verdict")});
    in.monitoring = rows;
  }
  if (detail.alarms) in.alarms_fired = *detail.alarms;
}

// A batch or revert step's hosts (pipeline/fleet_rollout.cc, hosts_json): each later step replaces the
// earlier picture, so the document shows where the rollout left every host.
void read_hosts(const json& hosts, ReviewInput& in) {
  std::vector<HostResult> out;
  for (const auto& h : hosts) {
    if (!h.is_object()) continue;
    HostResult r;
    r.host = json_string(h, "host");
    r.state = json_string(h, "state");
    r.error = json_string(h, "error");
    if (h.contains("before") && h["before"].is_object())
      r.before = json_string(h["before"], in.deployment.service.c_str());
    out.push_back(std::move(r));
  }
  in.hosts = std::move(out);
}

// One recorded step into the sections it feeds: rehearsal, smoke rows, traffic steps, the watch.
void read_step(const store::DeploymentStep& s, ReviewInput& in, std::vector<SmokeResult>& smoke,
               std::vector<TrafficStep>& traffic) {
  using store::StepKind;
  const store::StepDetail detail = store::parse_step_detail(s.detail);
  int64_t at = s.finished_at.value_or(s.started_at);
  bool ok = s.status == store::StepStatus::kSucceeded;
  const store::ParsedStep step = store::parse_step(s.name);
  if (step.kind == StepKind::kRehearsal && in.rollback_plan) {
    in.rollback_plan->rehearsal =
        ok ? "passed (spare slot, smoke, private route swap and back)" : "failed: " + detail.error;
    if (detail.swap_ms) in.rollback_plan->rehearsal_ms = *detail.swap_ms;
    in.rollback_plan->rehearsed_at_ms = at;
  }
  in.timeline.push_back({s.started_at, s.name + ": " + step_outcome(s, detail)});
  if (step.kind == StepKind::kStartCandidate) {
    add_smoke_rows(s, detail, "before traffic", "candidate start + pre-traffic suite", smoke);
  } else if (step.kind == StepKind::kPreTrafficSmoke) {
    add_smoke_rows(s, detail, "before traffic", "pre-traffic suite", smoke);
  } else if (step.kind == StepKind::kPostTrafficSmoke || step.kind == StepKind::kPostRollbackSmoke) {
    add_smoke_rows(s, detail, "after traffic", "post-traffic suite", smoke);
  } else if (step.kind == StepKind::kShift) {
    int w = detail.weight.value_or(std::atoi(step.arg.c_str()));
    std::string note = ok ? "healthy" : "failed: " + detail.error;
    // The canary judge's verdict: n per side, per metric limit, p and the rule that decided.
    if (detail.canary && !detail.canary->summary.empty()) note += "; canary " + detail.canary->summary;
    // Samples villager made itself (canary_synthetic) are said so: they are not users.
    if (detail.synthetic.is_object())
      note += "; " + std::to_string(detail.synthetic.value("sent", uint64_t{0})) +
              " synthetic requests sent to the candidate slot";
    traffic.push_back({w, at, note});
  } else if (step.kind == StepKind::kRouteSwap) {
    bool warm = detail.warm.value_or(false);
    traffic.push_back({100, at,
                       std::string(ok ? "restored" : "failed: " + detail.error) +
                           (warm ? " (warm route swap)" : " (cold start)")});
  } else if (step.kind == StepKind::kWatch) {
    read_watch(detail, in);
  }
  // A fleet's batches, its revert and its rollback (route_swap) record every host.
  bool fleet_step = step.kind == StepKind::kBatch || step.kind == StepKind::kFleetRevert ||
                    step.kind == StepKind::kRouteSwap;
  if (fleet_step && detail.hosts.is_array()) read_hosts(detail.hosts, in);
}

// The row's end in the timeline, and for a rollback its trigger, detection and restore times.
void read_outcome(ReviewInput& in, std::optional<int64_t> first_failure) {
  const store::Deployment& dep = in.deployment;
  bool rollback_kind = dep.kind == store::DeploymentKind::kRollback;
  json ddetail = parse_detail(dep.detail);
  if (dep.finished_at)
    in.timeline.push_back(
        {*dep.finished_at,
         std::string(rollback_kind ? "rollback " : "deployment ") +
             std::string(store::to_string(dep.status)) +
             (json_string(ddetail, "message").empty() ? "" : ": " + json_string(ddetail, "message"))});
  if (!in.is_rollback()) return;
  in.trigger = json_string(ddetail, "message");
  if (rollback_kind) {
    in.detected_at = dep.started_at;
    if (dep.status == store::DeploymentStatus::kSucceeded) in.restored_at = dep.finished_at;
  } else {
    in.detected_at = first_failure;
    in.restored_at = dep.finished_at;
  }
}

// What only the pipeline knows overrides what the store could tell.
void apply_extra(const ReviewExtra& extra, ReviewInput& in) {
  if (extra.approvals) in.approvals = extra.approvals;
  if (extra.rollback_plan) in.rollback_plan = extra.rollback_plan;
  if (extra.smoke) in.smoke = extra.smoke;
  if (extra.monitoring) in.monitoring = extra.monitoring;
  if (extra.alarms_fired) in.alarms_fired = extra.alarms_fired;
  if (!extra.trigger.empty()) in.trigger = extra.trigger;
  if (extra.detected_at) in.detected_at = extra.detected_at;
  for (const auto& t : extra.timeline) in.timeline.push_back(t);
}

}  // namespace

Result<ReviewInput> review_input_from_store(store::Store& store, int64_t deployment_id,
                                            const ReviewExtra& extra) {
  std::string ctx = "building the review of deployment " + std::to_string(deployment_id);
  auto d = store::get_deployment(store, deployment_id);
  if (!d) return d.error().context(ctx);
  auto steps = store::list_steps(store, deployment_id);
  if (!steps) return steps.error().context(ctx);
  ReviewInput in;
  in.deployment = *d;
  in.steps = *steps;
  const store::Deployment& dep = in.deployment;
  if (!dep.from_digest.empty()) {
    if (auto r = store::get_release(store, dep.service, dep.from_digest); r) {
      in.previous_version = r->version;
    } else if (r.error().code != Code::kNotFound) {
      return r.error().context(ctx);
    }
  }
  auto plan = rollback_plan_of(store, dep, in.previous_version);
  if (!plan) return plan.error().context(ctx);
  in.rollback_plan = *plan;

  std::vector<SmokeResult> smoke;
  std::vector<TrafficStep> traffic;
  std::optional<int64_t> first_failure;
  in.timeline.push_back(
      {dep.started_at, std::string(dep.kind == store::DeploymentKind::kRollback ? "rollback started by "
                                                                                : "deployment started by ") +
                           dep.actor});
  for (const auto& s : in.steps) {
    if (s.status == store::StepStatus::kFailed && !first_failure)
      first_failure = s.finished_at.value_or(s.started_at);
    read_step(s, in, smoke, traffic);
  }
  if (!smoke.empty()) in.smoke = smoke;
  if (!traffic.empty()) in.traffic = traffic;
  read_outcome(in, first_failure);
  apply_extra(extra, in);
  std::stable_sort(in.timeline.begin(), in.timeline.end(),
                   [](const TimelineEntry& a, const TimelineEntry& b) { return a.at_ms < b.at_ms; });
  return in;
}

namespace {

// The title and the fields a reader scans first.
void render_header(const ReviewInput& in, std::string& out) {
  const store::Deployment& d = in.deployment;
  bool rollback_kind = in.deployment.kind == store::DeploymentKind::kRollback;
  int64_t date_ms = in.deployment.finished_at.value_or(in.deployment.started_at);
  out += "# " + d.version + " \u2014 " + (rollback_kind ? "Rollback Review" : "Deployment Review") + ": " +
         d.environment + "/" + d.service + "\n";
  out += "**Role:** " + std::string(kRole) + "\n";
  out += "**Date:** " + when(date_ms).substr(0, 10) + "\n";
  out += "**Version:** " + d.version + "\n";
  out += "**Environment:** " + d.environment + "\n";
  out += "**Status:** " + status_text(d.status) + "\n";
  out += "**Artifact:** " + d.digest + "\n";
  if (in.is_rollback())
    out += "**Trigger:** " + (in.trigger.empty() ? "not recorded" : cell(in.trigger)) + "\n";
  out += "\n---\n\n";
}

// What changed, from what, by whom, and how it ended.
void render_summary(const ReviewInput& in, std::string& out) {
  const store::Deployment& d = in.deployment;
  bool rollback_kind = in.deployment.kind == store::DeploymentKind::kRollback;
  // Summary.
  out += "## Summary\n\n";
  std::string prev =
      (in.previous_version.empty() ? std::string("an unrecorded release") : in.previous_version) + " (" +
      short_digest(d.from_digest) + ")";
  std::string what = d.service + " " + d.version + " (" + short_digest(d.digest) + ")";
  if (rollback_kind)
    out += "Rolled back " + d.service + " in " + d.environment + " to " + d.version + " (" +
           short_digest(d.digest) + ")" +
           (d.from_digest.empty() ? "; nothing was serving before" : ", from " + prev) + ".\n";
  else
    out += "Deployed " + what + " to " + d.environment +
           (d.from_digest.empty() ? ", nothing was serving before" : ", replacing " + prev) + ".\n";
  out += "Started " + when(d.started_at) + " by " + d.actor;
  if (d.finished_at)
    out += "; finished " + when(*d.finished_at) + " after " + took(*d.finished_at - d.started_at);
  out += ". Outcome: " + to_lower(status_text(d.status));
  if (std::string m = json_string(parse_detail(d.detail), "message"); !m.empty() && m != "deployed")
    out += ": " + m;
  out += ends_with(out, ".") ? "" : ".";
  out += "\n\n";
}

// A rollback: what triggered it and how long restoring took.
void render_rollback_section(const ReviewInput& in, std::string& out) {
  if (in.is_rollback()) {
    out += "## Rollback\n\n";
    out += "- Trigger: " + (in.trigger.empty() ? "not recorded" : in.trigger) + "\n";
    out += "- Detected: " + (in.detected_at ? when(*in.detected_at) : "not recorded") + "\n";
    out += "- Restored: " + (in.restored_at ? when(*in.restored_at) : "not restored") + "\n";
    out += "- Detection to restored: " +
           (in.detected_at && in.restored_at ? took(*in.restored_at - *in.detected_at) : "not recorded") +
           "\n\n";
  }
}

// Who signed off, as the gate recorded it.
void render_approvals(const ReviewInput& in, std::string& out) {
  const store::Deployment& d = in.deployment;
  out += "## Approvals\n\n";
  if (!in.approvals) {
    out += std::string(kNotRecorded) + "\n\n";
  } else if (in.approvals->empty()) {
    out += "None required by " + d.environment + ".\n\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : *in.approvals) rows.push_back({a.role, a.signer, when(a.at_ms)});
    table(out, {"Role", "Signer", "Time"}, rows);
    out += "\n";
  }
}

// How the release was built, when villager's build step built it (docs/python.md).
void render_build(const ReviewInput& in, std::string& out) {
  if (!in.build) return;
  const artifact::BuildRecord& b = *in.build;
  out += "## Build\n\n";
  out += "- Command: `" + cell(join(b.command, " ")) + "`\n";
  out += "- Exit code: " + std::to_string(b.exit_code) + ", took " + took(b.duration_ms) + "\n";
  std::vector<std::string> env;
  for (const auto& [k, v] : b.env) env.push_back(k + "=" + v);
  out += "- Environment (nothing else inherited): " + cell(join(env, " ")) + "\n";
  if (!b.tools.empty()) {
    out += "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : b.tools) rows.push_back({"`" + cell(t.command) + "`", cell(t.version)});
    table(out, {"Tool", "Version"}, rows);
  }
  out += "\nLast output:\n\n";
  if (b.output_tail.empty()) {
    out += "(none)\n\n";
  } else {
    for (const auto& line : split(b.output_tail, '\n')) out += "    " + line + "\n";
    out += "\n";
  }
}

// What the release vendored (python_deps): the same list, versions and hashes as its manifest.
void render_python_deps(const ReviewInput& in, std::string& out) {
  if (in.python_deps.empty()) return;
  out += "## Python dependencies\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : in.python_deps) rows.push_back({d.name, d.version, std::to_string(d.files), d.sha256});
  table(out, {"Distribution", "Version", "Files", "SHA-256 of its files"}, rows);
  out += "\n";
}

// The way back, and its rehearsal.
void render_rollback_plan(const ReviewInput& in, std::string& out) {
  bool rollback_kind = in.deployment.kind == store::DeploymentKind::kRollback;
  out += "## Rollback plan\n\n";
  if (!in.rollback_plan) {
    out += std::string(kNotRecorded) + "\n\n";
  } else {
    const RollbackPlan& p = *in.rollback_plan;
    std::string label = rollback_kind ? "Restored known-good release" : "Previous known-good release";
    if (p.previous_digest.empty())
      out += "- " + label + ": none (first deployment: nothing to roll back to)\n";
    else
      out += "- " + label + ": " + (p.previous_version.empty() ? "unrecorded version" : p.previous_version) +
             " (" + p.previous_digest + ")\n";
    out += "- Rehearsal: " + (p.rehearsal.empty() ? std::string("not recorded") : p.rehearsal);
    if (p.rehearsal_ms) out += " in " + took(*p.rehearsal_ms);
    if (p.rehearsed_at_ms) out += " at " + when(*p.rehearsed_at_ms);
    out += "\n\n";
  }
}

// Every smoke check of every phase.
void render_smoke(const ReviewInput& in, std::string& out) {
  out += "## Smoke results\n\n";
  if (!in.smoke) {
    out += std::string(kNotRecorded) + "\n\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : *in.smoke)
      rows.push_back({s.check, s.phase,
                      (s.passed ? (s.waived.empty() ? "pass" : "waived") : "FAIL") +
                          (s.detail.empty() ? "" : ": " + s.detail) +
                          (s.waived.empty() ? "" : " (" + s.waived + ")"),
                      took(s.duration_ms)});
    table(out, {"Check", "Phase", "Result", "Duration"}, rows);
    out += "\n";
  }
}

// The canary steps and their verdicts.
void render_traffic(const ReviewInput& in, std::string& out) {
  const store::Deployment& d = in.deployment;
  out += "## Traffic shift\n\n";
  if (!in.traffic) {
    out += std::string(d.status == store::DeploymentStatus::kFailed ? "No traffic was moved."
                                                                    : std::string(kNotRecorded)) +
           "\n\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    int n = 0;
    for (const auto& t : *in.traffic)
      rows.push_back({std::to_string(++n), std::to_string(t.weight) + "%", when(t.at_ms), t.verdict});
    table(out, {"Step", "Weight", "Time", "Verdict"}, rows);
    out += "\n";
  }
}

// A fleet's hosts as the rollout left them; one-host targets have no such section.
void render_hosts(const ReviewInput& in, std::string& out) {
  if (!in.hosts) return;
  out += "## Hosts\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& h : *in.hosts)
    rows.push_back(
        {h.host, h.before.empty() ? "none" : h.before, h.state, h.error.empty() ? "" : cell(h.error)});
  table(out, {"Host", "Before", "Left as", "Why"}, rows);
  out += "\n";
}

// Baseline against candidate, and the alarms that fired.
void render_monitoring(const ReviewInput& in, std::string& out) {
  out += "## Monitoring\n\n";
  if (!in.monitoring) {
    out += "Baseline against candidate: not recorded.\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : *in.monitoring) rows.push_back({m.metric, m.baseline, m.candidate, m.verdict});
    table(out, {"Metric", "Baseline", "Candidate", "Verdict"}, rows);
  }
  out += "\nAlarms fired: ";
  if (!in.alarms_fired)
    out += "not recorded.\n\n";
  else if (in.alarms_fired->empty())
    out += "none.\n\n";
  else
    out += join(*in.alarms_fired, ", ") + ".\n\n";
}

// Everything that happened, in order.
void render_timeline(const ReviewInput& in, std::string& out) {
  out += "## Timeline\n\n";
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : in.timeline) rows.push_back({when(t.at_ms), t.what});
    table(out, {"When", "What"}, rows);
    out += "\n";
  }
}

// The open deployment issues at the time.
void render_issues(const ReviewInput& in, std::string& out) {
  out += "## Issues\n\n";
  if (!in.issues) {
    out += std::string(kNotRecorded) + "\n";
  } else {
    out += "Open deployment issues (issues-fs):\n\n```\n" + issues::format_issue_list(*in.issues) + "```\n";
  }
  if (!in.issue_problems.empty()) {
    out += "\nMalformed issue lines:\n\n";
    for (const auto& p : in.issue_problems) out += "- " + p.to_string() + "\n";
  }
}

// A rollback gets a blameless post-mortem to fill in.
void render_post_mortem(const ReviewInput& in, std::string& out) {
  if (in.is_rollback()) {
    out += "\n## Post-mortem\n\n";
    out += "_To be completed by the owner of this rollback; blameless._\n\n";
    out += "- What happened, as seen by users?\n";
    out += "- How was it detected, and could it have been detected sooner?\n";
    out += "- Why did the pre-traffic smoke suite and the canary not stop it before traffic?\n";
    out += "- What was the impact (requests failed, duration, data)?\n";
    out += "- What will prevent it recurring? (file each action as an issue and link it here)\n";
  }
}

}  // namespace

std::string render_review(const ReviewInput& in) {
  std::string out;
  for (auto* section : {render_header, render_summary, render_rollback_section, render_approvals,
                        render_build, render_python_deps, render_rollback_plan, render_smoke, render_traffic,
                        render_hosts, render_monitoring, render_timeline, render_issues, render_post_mortem})
    section(in, out);
  return out;
}

fs::path review_path(const config::Config& config, const store::Deployment& d) {
  std::string date = when(d.finished_at.value_or(d.started_at));  // "YYYY-MM-DDT..."
  std::string name = d.version + "__" + std::string(store::to_string(d.kind)) + "__" + d.environment + "-" +
                     d.service + ".md";
  return config.root / config.project.reviews_dir / date.substr(5, 2) / date.substr(8, 2) / name;
}

Result<fs::path> write_review(const config::Config& config, const ReviewInput& input) {
  fs::path path = review_path(config, input.deployment);
  std::string ctx = "writing the review document " + path.string();
  if (Status s = ensure_dir(path.parent_path()); !s.ok()) return s.error().context(ctx);
  std::error_code ec;
  fs::path chosen = path;
  for (int n = 2; fs::exists(chosen, ec); ++n) {
    if (n > kMaxSuffix) return Conflict(ctx + ": too many documents with this name");
    chosen =
        path.parent_path() / (path.stem().string() + "-" + std::to_string(n) + path.extension().string());
  }
  Status s = write_file_atomic(chosen, redact(render_review(input)));
  if (!s.ok()) return s.error().context("writing the review document " + chosen.string());
  return chosen;
}

Result<fs::path> write_review_for_deployment(const config::Config& config, store::Store& store,
                                             int64_t deployment_id, const ReviewExtra& extra) {
  auto in = review_input_from_store(store, deployment_id, extra);
  if (!in) return in.error();
  auto files = issues::find_issue_files(config.root, config.root);
  if (files) {
    auto list = issues::load_issues(*files);
    if (list) {
      in->issues = open_issues(list->issues);
      in->issue_problems = list->problems;
    } else {
      in->issue_problems.push_back({"", 0, list.error().message});
    }
  } else {
    in->issue_problems.push_back({"", 0, files.error().message});
  }
  // A manifest that cannot be read leaves the section out; verify_artifact guards the deploy itself.
  if (auto m = artifact::read_manifest(config.state_dir() / "artifacts", in->deployment.digest); m) {
    in->build = m->build;
    in->python_deps = m->python_deps;
  }
  return write_review(config, *in);
}

}  // namespace villager::report
