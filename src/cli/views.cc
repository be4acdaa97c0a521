#include "cli/views.h"

#include "base/clock.h"
#include "cli/pipeline_hooks.h"
#include "pipeline/abort.h"
#include "pipeline/fleet_rollout.h"
#include "pipeline/held.h"
#include "store/monitor_events.h"
#include "store/step_kinds.h"
#include "targets/ssh.h"

namespace villager::cli {

using json = nlohmann::json;

namespace {

json slot_json(const targets::SlotInfo& s, int64_t now) {
  return {{"version", s.version},
          {"digest", s.digest},
          {"port", s.port},
          {"pid", s.pid},
          {"healthy", s.healthy},
          {"restarts", s.restarts},
          {"uptime_ms", s.started_at_ms ? now - s.started_at_ms : 0}};
}

// A fleet's host x release grid, each host read on its own (in parallel) so that one unreachable host
// shows as such instead of hiding the others; `slots` gets every reachable host's slots.
json fleet_grid(targets::Fleet& fleet, std::vector<targets::SlotInfo>& slots, bool& failed) {
  std::vector<json> rows(fleet.size());
  std::vector<std::vector<targets::SlotInfo>> per(fleet.size());
  targets::in_parallel(fleet.size(), [&](size_t i) {
    const auto& h = fleet.host(i);
    json row = {{"host", h.name}, {"address", h.address}, {"services", json::object()}};
    auto t = fleet.host_target(i);
    auto got = t ? (*t)->slots() : Result<std::vector<targets::SlotInfo>>(t.error());
    if (!got) {
      row["error"] = got.error().message;
    } else {
      for (const auto& sl : *got)
        if (sl.role == targets::SlotRole::kServing)
          row["services"][sl.service] = {
              {"version", sl.version}, {"digest", sl.digest}, {"healthy", sl.healthy}};
      per[i] = std::move(*got);
    }
    rows[i] = std::move(row);
  });
  json hosts = json::array();
  std::map<std::string, std::map<std::string, std::vector<std::string>>>
      versions;  // service -> version -> hosts
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].contains("error")) failed = true;
    for (auto& [service, sv] : rows[i]["services"].items())
      versions[service][sv["version"].get<std::string>()].push_back(fleet.host(i).name);
    slots.insert(slots.end(), per[i].begin(), per[i].end());
    hosts.push_back(rows[i]);
  }
  json mixed = json::object();
  for (const auto& [service, by_version] : versions)
    if (by_version.size() > 1) mixed[service] = by_version;
  return {{"hosts", hosts}, {"mixed", mixed}};
}

json time_or_null(std::optional<int64_t> ms) {
  return ms ? json(format_rfc3339(from_unix_millis(*ms))) : json(nullptr);
}

}  // namespace

json environment_status_json(const config::Config& config, const config::EnvironmentConfig& env,
                             bool& failed) {
  int64_t now = unix_millis(real_clock().now());
  json je = {
      {"name", env.name}, {"target", config::target_kind_name(env.target)}, {"services", json::array()}};
  std::vector<targets::SlotInfo> slots;
  auto target = targets::make_target(config, env.name);
  std::string problem;
  if (!target) {
    problem = target.error().message;
  } else if (auto* fleet = (*target)->fleet()) {
    json grid = fleet_grid(*fleet, slots, failed);
    je["hosts"] = grid["hosts"];
    je["mixed"] = grid["mixed"];
  } else if (auto s = (*target)->slots(); !s) {
    problem = s.error().message;
  } else {
    slots = *s;
  }
  if (!problem.empty()) {
    je["error"] = problem;
    failed = true;
  }
  auto store = store::Store::open(config.state_dir());  // for held deploys; status works without it
  for (const auto& service : config.services_of(env)) {
    json js = {{"service", service}, {"url", target ? (*target)->public_url(service) : ""}};
    json weights = json::object();
    for (const auto& s : slots) {
      if (s.service != service) continue;
      if (s.weight > 0) weights[s.version.empty() ? s.digest : s.version] = s.weight;
      bool routed_role = s.role == targets::SlotRole::kServing || s.role == targets::SlotRole::kWarm;
      js[std::string(routed_role ? to_string(s.role) : "starting")] = slot_json(s, now);
    }
    js["weights"] = weights;
    if (store) {
      if (auto h = pipeline::find_held(**store, env.name, service); h && *h)
        js["held"] = {{"version", (*h)->deployment.version},
                      {"digest", (*h)->deployment.digest},
                      {"weight", (*h)->weight},
                      {"deployment_id", (*h)->deployment.id},
                      {"since", format_rfc3339(from_unix_millis((*h)->held_at))},
                      {"reason", (*h)->reason},
                      {"next", "villager promote " + env.name + " | villager rollback " + env.name}};
      else if (auto c = pipeline::find_running(**store, env.name, service); c && *c)
        js["canary"] = {
            {"version", (*c)->deployment.version},
            {"digest", (*c)->deployment.digest},
            {"weight", (*c)->weight},
            {"deployment_id", (*c)->deployment.id},
            {"since", format_rfc3339(from_unix_millis((*c)->weight_since ? (*c)->weight_since
                                                                         : (*c)->deployment.started_at))},
            {"next", "villager abort " + env.name}};
    }
    je["services"].push_back(js);
  }
  // A fleet a change left on more than one release: the alarm that change raised (fleet_rollout.h).
  if (store && env.target == config::TargetKind::kSsh) {
    json alarms = json::array();
    for (const auto& service : config.services_of(env)) {
      auto events = store::list_alarm_events(**store, env.name, service);
      const store::AlarmEventRow* newest = nullptr;
      if (events)
        for (const auto& e : *events)
          if (e.alarm == pipeline::kFleetMixedAlarm) newest = &e;
      if (newest && newest->to_state == "firing")
        alarms.push_back({{"alarm", newest->alarm},
                          {"service", service},
                          {"severity", newest->severity},
                          {"since", format_rfc3339(from_unix_millis(newest->ts))},
                          {"since_ms", newest->ts}});
    }
    je["alarms"] = alarms;
  }
  return je;
}

json deployment_json(const store::Deployment& d) {
  json detail = json::parse(d.detail, nullptr, false);
  json out = {{"id", d.id},
              {"environment", d.environment},
              {"service", d.service},
              {"kind", std::string(store::to_string(d.kind))},
              {"version", d.version},
              {"digest", d.digest},
              {"from_digest", d.from_digest},
              {"status", std::string(store::to_string(d.status))},
              {"actor", d.actor},
              {"started_at", format_rfc3339(from_unix_millis(d.started_at))},
              {"finished_at", time_or_null(d.finished_at)},
              {"started_at_ms", d.started_at},
              {"finished_at_ms", d.finished_at ? json(*d.finished_at) : json(nullptr)},
              {"duration_ms", d.finished_at ? json(*d.finished_at - d.started_at) : json(nullptr)}};
  if (detail.is_object() && detail.contains("message")) out["message"] = detail["message"];
  // Who aborted its canary (villager abort, the dashboard): {actor, reason, requested_at_ms}.
  if (detail.is_object() && detail.contains("aborted_by")) out["aborted_by"] = detail["aborted_by"];
  return out;
}

Result<json> steps_json(store::Store& store, int64_t deployment_id) {
  auto steps = store::list_steps(store, deployment_id);
  if (!steps) return steps.error();
  json out = json::array();
  for (const auto& s : *steps) {
    store::ParsedStep p = store::parse_step(s.name);
    json detail = json::parse(s.detail.empty() ? "{}" : s.detail, nullptr, /*allow_exceptions=*/false);
    if (detail.is_discarded()) detail = s.detail;  // not JSON (an older row): kept as text
    out.push_back({{"seq", s.seq},
                   {"name", s.name},
                   {"kind", std::string(store::step_kind_name(p.kind))},
                   {"arg", p.arg},
                   {"status", std::string(store::to_string(s.status))},
                   {"started_at", format_rfc3339(from_unix_millis(s.started_at))},
                   {"finished_at", time_or_null(s.finished_at)},
                   {"started_at_ms", s.started_at},
                   {"finished_at_ms", s.finished_at ? json(*s.finished_at) : json(nullptr)},
                   {"duration_ms", s.finished_at ? json(*s.finished_at - s.started_at) : json(nullptr)},
                   {"detail", detail}});
  }
  return out;
}

}  // namespace villager::cli
