#include "cli/dashboard_api.h"

#include <algorithm>
#include <map>

#include "base/fs.h"
#include "cli/views.h"
#include "issues/issues.h"
#include "report/report.h"
#include "store/step_detail.h"
#include "store/step_kinds.h"

namespace villager::cli {

using json = nlohmann::json;

namespace {

// The rollback target of the release role: detection to restored.
constexpr int64_t kRollbackTargetMs = 5 * 60 * 1000;

Result<json> last_deploy_json(store::Store& store, const std::string& env, const std::string& service) {
  auto newest = store::newest_deployment(store, env, service);
  if (!newest) return newest.error();
  return *newest ? deployment_json(**newest) : json(nullptr);
}

// Alarms whose newest state change (per alarm and release) is to firing.
Result<json> firing_alarms(store::Store& store, const std::string& env, const std::string& service) {
  auto events = store::list_alarm_events(store, env, service);
  if (!events) return events.error();
  std::map<std::string, const store::AlarmEventRow*> newest;  // oldest first, so the last one wins
  for (const auto& e : *events) newest[e.alarm + "\n" + e.release] = &e;
  json out = json::array();
  for (const auto& [key, e] : newest)
    if (e->to_state == "firing")
      out.push_back({{"alarm", e->alarm},
                     {"release", e->release},
                     {"metric", e->metric},
                     {"severity", e->severity},
                     {"since_ms", e->ts},
                     {"value", e->value ? json(*e->value) : json(nullptr)},
                     {"threshold", e->threshold}});
  return out;
}

int open_issue_count(const config::Config& config) {
  auto files = issues::find_issue_files(config.root, config.root);
  if (!files) return -1;
  auto list = issues::load_issues(*files);
  if (!list) return -1;
  return static_cast<int>(std::count_if(list->issues.begin(), list->issues.end(), [](const issues::Issue& i) {
    std::string s = i.status;
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    return s != "done" && s != "closed" && s != "resolved" && s != "wontfix";
  }));
}

}  // namespace

Result<json> api_environments(const config::Config& config, store::Store& store) {
  json envs = json::array();
  for (const auto& env : config.environments) {
    bool failed = false;
    json je = environment_status_json(config, env, failed);
    for (auto& js : je["services"]) {
      std::string service = js["service"];
      auto probe = store::last_probe_sample(store, env.name, service);
      if (!probe) return probe.error();
      js["probe"] =
          *probe ? json{{"state", (*probe)->state.empty() ? ((*probe)->ok ? "up" : "down") : (*probe)->state},
                        {"at_ms", (*probe)->ts},
                        {"status", (*probe)->status},
                        {"latency_us", (*probe)->latency_us}}
                 : json{{"state", "pending"}, {"at_ms", nullptr}};
      auto firing = firing_alarms(store, env.name, service);
      if (!firing) return firing.error();
      js["alarms_firing"] = *firing;
      auto last = last_deploy_json(store, env.name, service);
      if (!last) return last.error();
      js["last_deploy"] = *last;
    }
    envs.push_back(std::move(je));
  }
  return json{{"environments", envs}, {"open_issues", open_issue_count(config)}};
}

// The gate's decision and the deploy's figures, kept with the row (approvals with their signers).
json row_detail(const store::Deployment& d) {
  json detail = json::parse(d.detail.empty() ? "{}" : d.detail, nullptr, /*allow_exceptions=*/false);
  return detail.is_discarded() ? json::object() : detail;
}

Result<json> api_deployments(store::Store& store, const ApiWindow& w) {
  store::DeploymentFilter f;
  f.environment = w.environment;
  f.since = w.since_ms;
  f.limit = w.limit;
  auto rows = store::list_deployments(store, f);
  if (!rows) return rows.error();
  json out = json::array();
  for (const auto& d : *rows) {
    json j = deployment_json(d);
    auto steps = steps_json(store, d.id);
    if (!steps) return steps.error();
    j["steps"] = *steps;
    j["detail"] = row_detail(d);
    out.push_back(std::move(j));
  }
  return json{{"deployments", out}};
}

Result<json> api_deployment(store::Store& store, int64_t id) {
  auto d = store::get_deployment(store, id);
  if (!d) return d.error();
  auto steps = steps_json(store, id);
  if (!steps) return steps.error();
  json canary = json::array();
  for (const auto& s : *steps) {
    if (s["kind"] != store::step_kind_name(store::StepKind::kShift)) continue;
    if (!store::step_detail_from_json(s["detail"]).canary) continue;  // a step not judged
    canary.push_back({{"weight", std::atoi(s["arg"].get<std::string>().c_str())},
                      {"seq", s["seq"]},
                      {"started_at_ms", s["started_at_ms"]},
                      {"finished_at_ms", s["finished_at_ms"]},
                      {"status", s["status"]},
                      {"analysis", s["detail"]}});
  }
  json dep = deployment_json(*d);
  dep["detail"] = row_detail(*d);
  return json{{"deployment", dep}, {"steps", *steps}, {"canary", canary}};
}

Result<json> api_rollbacks(store::Store& store, const ApiWindow& w) {
  auto rows = report::rollback_timings(store, {w.environment, w.since_ms, w.until_ms});
  if (!rows) return rows.error();
  json out = json::array();
  for (const auto& r : *rows)
    out.push_back({{"deployment_id", r.deployment_id},
                   {"environment", r.environment},
                   {"service", r.service},
                   {"kind", r.kind},
                   {"detected_at_ms", r.detected_at},
                   {"restored_at_ms", r.restored_at},
                   {"duration_ms", r.duration_ms},
                   {"met", r.duration_ms < kRollbackTargetMs}});
  return json{{"target_ms", kRollbackTargetMs}, {"rollbacks", out}};
}

Result<json> api_uptime(const config::Config& config, store::Store& store, const ApiWindow& w, int buckets) {
  int64_t span = std::max<int64_t>(w.until_ms - w.since_ms, 1);
  int64_t bucket_ms = std::max<int64_t>((span + buckets - 1) / buckets, 1);
  json services = json::array();
  for (const auto& env : config.environments) {
    if (!w.environment.empty() && env.name != w.environment) continue;
    for (const auto& service : config.services_of(env)) {
      auto total = store::probe_availability(store, env.name, service, "", w.since_ms, w.until_ms);
      if (!total) return total.error();
      json strip = json::array();
      for (int64_t t = w.since_ms; t < w.until_ms; t += bucket_ms) {
        auto a =
            store::probe_availability(store, env.name, service, "", t, std::min(t + bucket_ms, w.until_ms));
        if (!a) return a.error();
        strip.push_back({{"start_ms", t},
                         {"samples", a->samples},
                         {"ok", a->ok},
                         {"pending", a->pending},
                         {"during_deploy", a->during_deploy}});
      }
      store::DeploymentFilter f{env.name, service, w.since_ms, 0};
      auto rows = store::list_deployments(store, f);
      if (!rows) return rows.error();
      json deploys = json::array();
      for (const auto& d : *rows)
        if (d.started_at < w.until_ms)
          deploys.push_back({{"at_ms", d.started_at},
                             {"kind", store::to_string(d.kind)},
                             {"version", d.version},
                             {"status", store::to_string(d.status)}});
      services.push_back({{"environment", env.name},
                          {"service", service},
                          {"uptime", total->samples ? json(total->ratio()) : json(nullptr)},
                          {"samples", total->samples},
                          {"ok", total->ok},
                          {"downtime_ms", total->downtime_ms},
                          {"buckets", strip},
                          {"deploys", deploys}});
    }
  }
  return json{
      {"since_ms", w.since_ms}, {"until_ms", w.until_ms}, {"bucket_ms", bucket_ms}, {"services", services}};
}

Result<json> api_report(const config::Config& config, store::Store& store, const ApiWindow& w) {
  auto r = report::compute_report(store, &config, {w.environment, w.since_ms, w.until_ms});
  if (!r) return r.error();
  json j = json::parse(report::report_to_json(*r), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Internal("the report is not JSON");
  std::filesystem::path dir = config.root / config.project.reviews_dir;
  json reviews = json::array();
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec))
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec) && it->path().extension() == ".md")
        reviews.push_back({{"name", it->path().filename().string()},
                           {"path", std::filesystem::relative(it->path(), dir).string()}});
  std::sort(reviews.begin(), reviews.end(),
            [](const json& a, const json& b) { return a["path"] > b["path"]; });
  j["reviews"] = reviews;
  return j;
}

Result<std::string> api_review_text(const config::Config& config, const std::string& relative) {
  std::filesystem::path dir = std::filesystem::weakly_canonical(config.root / config.project.reviews_dir);
  std::filesystem::path file = std::filesystem::weakly_canonical(dir / relative);
  auto [end, _] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  if (relative.empty() || end != dir.end() || file.extension() != ".md")
    return NotFound("no review document '" + relative + "'");
  auto text = read_file(file);
  if (!text) return NotFound("no review document '" + relative + "'");
  return *text;
}

Result<json> api_audit(store::Store& store, int limit) {
  auto v = store::verify_audit(store);
  if (!v) return v.error();
  auto events = store::list_audit(store, limit);
  if (!events) return events.error();
  json out = json::array();
  for (auto it = events->rbegin(); it != events->rend(); ++it) {  // newest first
    json data = json::parse(it->data.empty() ? "{}" : it->data, nullptr, false);
    out.push_back({{"seq", it->seq},
                   {"ts_ms", it->ts},
                   {"actor", it->actor},
                   {"kind", it->kind},
                   {"subject", it->subject},
                   {"data", data.is_discarded() ? json(it->data) : data},
                   {"hash", it->hash}});
  }
  json verification = {{"ok", v->ok},
                       {"events", v->events},
                       {"head_hash", v->head_hash},
                       {"first_bad_seq", v->first_bad_seq},
                       {"problem", store::to_string(v->problem)},
                       {"message", v->message}};
  return json{{"verification", verification}, {"events", out}};
}

Result<std::string> store_change_mark(store::Store& store) {
  auto mark = store.db().query_text(
      "SELECT (SELECT coalesce(max(seq), 0) FROM audit_log) || '.' || "
      "(SELECT coalesce(max(rowid), 0) FROM deployment_steps) || '.' || "
      "(SELECT count(*) FROM deployment_steps WHERE finished_at IS NOT NULL) || '.' || "
      "(SELECT coalesce(max(rowid), 0) FROM probe_samples) || '.' || "
      "(SELECT count(*) FROM deployments WHERE finished_at IS NOT NULL)");
  if (!mark) return mark.error().context("reading the store's change mark");
  return *mark;
}

}  // namespace villager::cli
