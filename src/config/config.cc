#include "config/config.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "config/ci_config.h"
#include "config/gate_config.h"
#include "config/lambda_config.h"
#include "config/notify_config.h"
#include "config/profile.h"
#include "config/smoke_checks.h"
#include "config/ssh_config.h"
#include "config/toml_reader.h"

namespace villager::config {

bool ServiceConfig::probe_sends_key() const {
  if (probe_auth == "never" || auth_header.empty() || auth_secret.empty()) return false;
  if (probe_auth == "always") return true;
  return std::find(protected_paths.begin(), protected_paths.end(), probe_target_path()) !=
         protected_paths.end();
}

std::string PythonDepsConfig::arch() const {
  for (std::string_view a : {"x86_64", "aarch64"})
    if (platform.ends_with(std::string("_") + std::string(a))) return std::string(a);
  return "";
}

bool ServiceConfig::health_needs_key() const {
  return !auth_header.empty() &&
         std::find(protected_paths.begin(), protected_paths.end(), health_path) != protected_paths.end();
}

namespace {

const std::vector<std::string> kTopKeys = {"project", "profile", "services", "environments",
                                           "smoke",   "monitor", "alert",    "signer",
                                           "agent",   "gate",    "notify",   "ci"};
const std::vector<std::string> kProjectKeys = {"name", "version_file", "state_dir", "reviews_dir"};
const std::vector<std::string> kServiceKeys = {
    "build_dir",       "command",         "health_path", "health_body", "secrets",         "env",
    "frontend_pages",  "protected_paths", "auth_header", "auth_secret", "health_interval", "health_timeout",
    "health_deadline", "drain_timeout",   "probe_path",  "probe_auth",  "probe_expect",    "build",
    "build_tools",     "build_timeout",   "python_deps"};
const std::vector<std::string> kPythonDepsKeys = {"requirements", "from", "python", "platform", "target"};
// The keys of an [environments.NAME] table; the lambda ones are lambda_config.cc's.
const std::vector<std::string> kEnvKeys = [] {
  std::vector<std::string> keys = {"target",
                                   "listen",
                                   "urls",
                                   "requires",
                                   "strategy",
                                   "steps",
                                   "step_interval",
                                   "watch",
                                   "rehearse",
                                   "probe_interval",
                                   "canary_min_samples",
                                   "max_step_duration",
                                   "on_inconclusive",
                                   "canary_gross_5xx",
                                   "canary_gross_latency_ratio",
                                   "canary_max_latency_ratio",
                                   "canary_max_error_increase",
                                   "canary_alpha",
                                   "canary_synthetic",
                                   "public_names",
                                   "waiver_roles",
                                   "hosts",
                                   "ssh_identity",
                                   "known_hosts",
                                   "remote_root",
                                   "agent_port",
                                   "batch",
                                   "batch_wait",
                                   "bake",
                                   "min_healthy",
                                   "front",
                                   "ssh_connect_timeout"};
  keys.insert(keys.end(), kLambdaEnvironmentKeys.begin(), kLambdaEnvironmentKeys.end());
  return keys;
}();
const std::vector<std::string> kSmokeKeys = {"cors_allowed_origins",
                                             "cors_foreign_origin",
                                             "storage",
                                             "logs",
                                             "auth_status",
                                             "access_token_header",
                                             "access_token_secret",
                                             "write_path",
                                             "health_timeout",
                                             "health_deadline",
                                             "health_interval",
                                             "transfers_path",
                                             "meta_fields",
                                             "frontend_text",
                                             "check",
                                             "browser",
                                             "skip",
                                             "max_redirects",
                                             "preset",
                                             "app_version",
                                             "sgraph_send"};
const std::vector<std::string> kMonitorKeys = {"alarm"};
const std::vector<std::string> kAlarmKeys = {"name",   "metric",      "above",    "below",
                                             "window", "consecutive", "severity", "service"};
const std::vector<std::string> kMetrics = {"error_rate", "p50",          "p90",     "p99",
                                           "errors_5xx", "availability", "restarts"};
const std::vector<std::string> kSeverities = {"critical", "warning", "info"};
const std::vector<std::string> kSignerKeys = {"role", "name", "public_key"};
const std::vector<std::string> kAgentKeys = {"control",
                                             "max_header_bytes",
                                             "max_body_bytes",
                                             "max_connections",
                                             "max_connections_per_ip",
                                             "max_inflight_per_release",
                                             "idle_timeout",
                                             "upstream_timeout",
                                             "forwarded",
                                             "tls_cert",
                                             "tls_key",
                                             "tls_environments",
                                             "tls_ca",
                                             "tls_reload_interval",
                                             "redirect_http",
                                             "redirect_https_port",
                                             "upgraded_idle_timeout",
                                             "upgrade_drain_timeout"};

// toml++ keeps keys sorted; services and environments keep the order the file gives them.
struct Entry {
  const toml::key& first;
  const toml::node& second;
};
std::vector<Entry> in_file_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> order;
  for (auto&& [k, v] : t) order.emplace_back(&k, &v);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    auto pa = a.first->source().begin, pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  std::vector<Entry> out;
  for (auto [k, v] : order) out.push_back({*k, *v});
  return out;
}

// Iterates an array of tables (`[[alert]]`), reporting elements that are not tables.
template <class F>
void each_table(TomlReader& r, const toml::node* n, const std::string& what, F&& f) {
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) {
    r.error_at(*n, "'" + what + "' must be written as [[" + what + "]] tables");
    return;
  }
  for (const auto& e : *a) {
    if (const toml::table* t = e.as_table())
      f(*t);
    else
      r.error_at(e, "each '" + what + "' entry must be a table");
  }
}

void parse_project(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("project");
  if (!n || !n->is_table()) {
    r.error(n ? n->source() : root.source(), "missing [project] table (name and version_file)");
    return;
  }
  const toml::table& t = *n->as_table();
  r.check_keys(t, "[project]", kProjectKeys);
  r.get(t, "name", c.project.name, true);
  r.get(t, "version_file", c.project.version_file, true);
  r.get(t, "state_dir", c.project.state_dir);
  r.get(t, "reviews_dir", c.project.reviews_dir);
}

// build, build_tools, build_timeout: the build step runs before packaging, so it needs a build_dir to fill.
void parse_build_options(TomlReader& r, const toml::table& t, ServiceConfig& s) {
  r.get(t, "build", s.build);
  r.get(t, "build_tools", s.build_tools);
  r.get_duration(t, "build_timeout", s.build_timeout);
  if (const toml::node* b = t.get("build"); b && b->is_array() && s.build.empty())
    r.error(r.where(t, "build"), "'build' must not be empty: leave it out when there is nothing to build");
  if (t.contains("build") && !t.contains("build_dir"))
    r.error(r.where(t, "build"), "'build' needs 'build_dir' (what the build fills and villager packages)");
  if (t.contains("build_tools") && !t.contains("build"))
    r.error(r.where(t, "build_tools"),
            "'build_tools' needs 'build' (the versions are recorded with its run)");
  for (const auto& tool : s.build_tools)
    if (trim(tool).empty())
      r.error(r.where(t, "build_tools"), "a 'build_tools' entry is empty (e.g. \"python3 --version\")");
  if (t.contains("build_timeout") && s.build_timeout.count() <= 0)
    r.error(r.where(t, "build_timeout"), "'build_timeout' must be longer than 0s");
}

// A relative path that stays inside its base: no "..", not absolute, not empty.
bool is_inner_path(const std::string& p) {
  if (p.empty() || p.front() == '/') return false;
  for (const auto& part : split(p, '/'))
    if (part == ".." || part == ".") return false;
  return true;
}

// python_deps: vendoring into build_dir/target, and the platform every shared object must fit.
void parse_python_deps(TomlReader& r, const toml::table& t, ServiceConfig& s) {
  const toml::node* n = t.get("python_deps");
  if (!n) return;
  const toml::table* d = n->as_table();
  if (!d) {
    r.error_at(*n,
               "'python_deps' must be a table such as { requirements = \"requirements.txt\", from = "
               "\"system\", python = \"3.11\" }");
    return;
  }
  PythonDepsConfig p;
  r.check_keys(*d, "python_deps", kPythonDepsKeys);
  r.get(*d, "requirements", p.requirements, true);
  r.get(*d, "from", p.from, true);
  r.get(*d, "python", p.python, true);
  r.get(*d, "platform", p.platform);
  r.get(*d, "target", p.target);
  if (!t.contains("build_dir"))
    r.error(r.where(t, "python_deps"), "'python_deps' needs 'build_dir' (the dependencies go into it)");
  auto dot = p.python.find('.');
  if (d->contains("python") && (!p.python.starts_with("3.") || p.python.size() < 3 ||
                                p.python.find_first_not_of("0123456789", dot + 1) != std::string::npos))
    r.error(r.where(*d, "python"),
            "'python' is a CPython version such as \"3.11\", not \"" + p.python + "\"");
  if (!p.platform.empty() && p.arch().empty())
    r.error(r.where(*d, "platform"),
            "'platform' is a Linux pip platform tag for x86_64 or aarch64 (e.g. "
            "\"manylinux2014_x86_64\", \"musllinux_1_1_aarch64\"), not \"" +
                p.platform + "\"");
  if (!p.platform.empty() && p.from_system())
    r.error(r.where(*d, "platform"),
            "'platform' needs a wheel folder in 'from': \"system\" copies this host's packages as they are");
  if (!is_inner_path(p.target))
    r.error(r.where(*d, "target"),
            "'target' is a folder inside build_dir (such as \"python\"), not \"" + p.target + "\"");
  if (d->contains("from") && p.from.empty())
    r.error(r.where(*d, "from"), "'from' is \"system\" or a wheel folder (relative to the project root)");
  s.python_deps = std::move(p);
}

void parse_probe_options(TomlReader& r, const toml::table& t, ServiceConfig& s) {
  r.get(t, "probe_path", s.probe_path);
  r.get(t, "probe_auth", s.probe_auth);
  r.get(t, "probe_expect", s.probe_expect);
  if (!s.probe_path.empty() && !starts_with(s.probe_path, "/"))
    r.error(r.where(t, "probe_path"), "'probe_path' must start with '/'");
  if (s.probe_auth != "auto" && s.probe_auth != "always" && s.probe_auth != "never")
    r.error(r.where(t, "probe_auth"),
            "'probe_auth' is \"auto\", \"always\" or \"never\", not \"" + s.probe_auth + "\"");
  if (s.probe_auth == "always" && (s.auth_header.empty() || s.auth_secret.empty()))
    r.error(r.where(t, "probe_auth"), "'probe_auth = \"always\"' needs 'auth_header' and 'auth_secret'");
  for (int code : s.probe_expect)
    if (code < 100 || code > 599)
      r.error(r.where(t, "probe_expect"),
              "'probe_expect' holds HTTP statuses (100-599), not " + std::to_string(code));
}

const std::vector<std::string> kSyntheticKeys = {"requests", "rate", "max_requests"};

// `canary_synthetic`: only reads (GET, HEAD) of the service's own paths, at a bounded rate and count.
void parse_canary_synthetic(TomlReader& r, const toml::table& env, EnvironmentConfig& e) {
  const toml::node* n = env.get("canary_synthetic");
  if (!n) return;
  const toml::table* t = n->as_table();
  if (!t) {
    r.error_at(*n,
               "'canary_synthetic' must be a table such as { requests = [\"GET /info/health\"], rate = 20, "
               "max_requests = 500 }");
    return;
  }
  using Limits = CanarySyntheticConfig;
  CanarySyntheticConfig& c = e.canary_synthetic;
  r.check_keys(*t, "canary_synthetic", kSyntheticKeys);
  std::vector<std::string> lines;
  r.get(*t, "requests", lines);
  if (!t->get("requests") || lines.empty())
    r.error(t->get("requests") ? r.where(*t, "requests") : t->source(),
            "'canary_synthetic' needs 'requests', such as [\"GET /info/health\", \"HEAD /\"]");
  for (const auto& line : lines) {
    auto space = line.find(' ');
    SyntheticRequest q{line.substr(0, space), space == std::string::npos ? "" : line.substr(space + 1)};
    if (q.method != "GET" && q.method != "HEAD")
      r.error(r.where(*t, "requests"),
              "synthetic request '" + line + "': only GET and HEAD are sent (a canary must not change data)");
    else if (!starts_with(q.path, "/") || q.path.find_first_of(" \t\r\n") != std::string::npos)
      r.error(r.where(*t, "requests"),
              "synthetic request '" + line + "' is \"METHOD /path\", the path starting with '/'");
    else
      c.requests.push_back(std::move(q));
  }
  double rate = c.rate;
  r.get(*t, "rate", rate);
  if (rate < Limits::kMinRate || rate > Limits::kMaxRate) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", rate);
    r.error(r.where(*t, "rate"), std::string("'rate' is 0.1 to 1000 requests per second, not ") + buf);
  } else {
    c.rate = rate;
  }
  r.get(*t, "max_requests", c.max_requests, 1, Limits::kMaxRequests);
}

void parse_canary_options(TomlReader& r, const toml::table& t, EnvironmentConfig& e) {
  r.get(t, "canary_min_samples", e.canary_min_samples, 1, 1'000'000);
  r.get_duration(t, "max_step_duration", e.max_step_duration);
  r.get(t, "on_inconclusive", e.on_inconclusive);
  r.get(t, "canary_gross_5xx", e.canary_gross_5xx, 1, 1'000'000);
  r.get(t, "canary_gross_latency_ratio", e.canary_gross_latency_ratio);
  if (e.canary_gross_latency_ratio != 0 && e.canary_gross_latency_ratio < 1)
    r.error(r.where(t, "canary_gross_latency_ratio"),
            "'canary_gross_latency_ratio' is 0 (off) or at least 1");
  r.get(t, "canary_max_latency_ratio", e.canary_max_latency_ratio);
  if (e.canary_max_latency_ratio < 1)
    r.error(r.where(t, "canary_max_latency_ratio"),
            "'canary_max_latency_ratio' is at least 1 (1.2: the candidate may be 20% slower, plus 25 ms)");
  r.get(t, "canary_max_error_increase", e.canary_max_error_increase);
  if (e.canary_max_error_increase < 0 || e.canary_max_error_increase >= 1)
    r.error(r.where(t, "canary_max_error_increase"),
            "'canary_max_error_increase' is a fraction from 0 to below 1 (0.01: one point of 5xx above the "
            "baseline)");
  r.get(t, "canary_alpha", e.canary_alpha);
  if (e.canary_alpha <= 0 || e.canary_alpha > 0.2)
    r.error(r.where(t, "canary_alpha"), "'canary_alpha' is above 0 and at most 0.2 (default 0.05)");
  if (!e.on_inconclusive.empty() && e.on_inconclusive != "rollback" && e.on_inconclusive != "promote" &&
      e.on_inconclusive != "hold")
    r.error(r.where(t, "on_inconclusive"),
            "'on_inconclusive' is \"rollback\", \"hold\" or \"promote\", not \"" + e.on_inconclusive + "\"");
  if (e.max_step_duration.count() && e.max_step_duration < e.step_interval)
    r.error(r.where(t, "max_step_duration"), "'max_step_duration' is shorter than 'step_interval'");
  parse_canary_synthetic(r, t, e);
}

void parse_services(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("services");
  if (!n || !n->is_table()) {
    r.error(n ? n->source() : root.source(),
            "missing [services.NAME] tables: at least one service is needed");
    return;
  }
  for (const auto& [k, v] : in_file_order(*n->as_table())) {
    ServiceConfig s;
    s.name = std::string(k.str());
    std::string where = "[services." + s.name + "]";
    if (!valid_name(s.name))
      r.error(k.source(), "service name '" + s.name + "' may hold only letters, digits, - and _");
    const toml::table* t = v.as_table();
    if (!t) {
      r.error_at(v, where + " must be a table");
      continue;
    }
    r.check_keys(*t, where, kServiceKeys);
    // Optional here: only a service some environment deploys needs them (check_deployable).
    r.get(*t, "build_dir", s.build_dir);
    r.get(*t, "command", s.command);
    r.get(*t, "health_path", s.health_path);
    r.get(*t, "health_body", s.health_body);
    r.get(*t, "secrets", s.secrets);
    r.get(*t, "env", s.env);
    r.get(*t, "frontend_pages", s.frontend_pages);
    r.get(*t, "protected_paths", s.protected_paths);
    r.get(*t, "auth_header", s.auth_header);
    r.get(*t, "auth_secret", s.auth_secret);
    r.get_duration(*t, "health_interval", s.health.interval);
    r.get_duration(*t, "health_timeout", s.health.timeout);
    r.get_duration(*t, "health_deadline", s.health.deadline);
    r.get_duration(*t, "drain_timeout", s.drain_timeout);
    if (t->contains("command") && s.command.empty())
      r.error(r.where(*t, "command"), "'command' must not be empty");
    parse_build_options(r, *t, s);
    parse_python_deps(r, *t, s);
    if (!starts_with(s.health_path, "/"))
      r.error(r.where(*t, "health_path"), "'health_path' must start with '/'");
    for (const auto& p : s.frontend_pages)
      if (!starts_with(p, "/"))
        r.error(r.where(*t, "frontend_pages"), "frontend page '" + p + "' must start with '/'");
    for (const auto& p : s.protected_paths)
      if (!starts_with(p, "/"))
        r.error(r.where(*t, "protected_paths"), "protected path '" + p + "' must start with '/'");
    if (!s.protected_paths.empty() && (s.auth_header.empty() || s.auth_secret.empty()))
      r.error(r.where(*t, "protected_paths"),
              "'protected_paths' needs 'auth_header' and 'auth_secret' in " + where);
    if (!s.auth_secret.empty() &&
        std::find(s.secrets.begin(), s.secrets.end(), s.auth_secret) == s.secrets.end())
      s.secrets.push_back(s.auth_secret);
    if (s.health.timeout > s.health.deadline)
      r.error(r.where(*t, "health_timeout"), "'health_timeout' is longer than 'health_deadline'");
    parse_probe_options(r, *t, s);
    c.services.push_back(std::move(s));
  }
}

using ServiceCheck = std::function<void(const toml::source_region&, const std::string&, const std::string&)>;

void parse_target(TomlReader& r, const toml::table& t, EnvironmentConfig& e) {
  std::string target = "local";
  r.get(t, "target", target);
  if (auto kind = parse_target_kind(target)) {
    e.target = *kind;
    return;
  }
  std::string hint = suggest(target, target_kind_names());
  r.error(r.where(t, "target"), "unknown target '" + target +
                                    "' (one of: " + join(target_kind_names(), ", ") + ")" +
                                    (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
}

// `listen` (local) and `urls` (url): where each service is reached, and that the target has them.
void parse_addresses(TomlReader& r, const toml::table& t, const std::string& where, EnvironmentConfig& e,
                     const ServiceCheck& check_service) {
  if (const toml::node* ln = t.get("listen")) {
    if (const toml::table* lt = ln->as_table()) {
      for (auto&& [sk, sv] : *lt) {
        std::string svc(sk.str());
        check_service(sk.source(), svc, where + " listen");
        if (!sv.is_string()) {
          r.error_at(sv, "listen address for '" + svc + "' must be a string such as \"127.0.0.1:8080\"");
          continue;
        }
        auto hp = parse_host_port(sv.as_string()->get());
        if (!hp)
          r.error_at(sv, "listen address for '" + svc + "': " + hp.error().message);
        else
          e.listen[svc] = *hp;
      }
    } else {
      r.error_at(*ln, "'listen' must be a table such as { user = \"127.0.0.1:8080\" }");
    }
  }
  r.get(t, "public_names", e.public_names);
  for (const auto& [svc, name] : e.public_names) {
    check_service(r.where(t, "public_names"), svc, where + " public_names");
    if (name.empty() || name.find_first_of(":/ ") != std::string::npos)
      r.error(r.where(t, "public_names"), "public name for '" + svc +
                                              "' must be a host name such as \"send.example.com\", not '" +
                                              name + "'");
  }
  if (!e.public_names.empty() && e.target != TargetKind::kLocal)
    r.error(r.where(t, "public_names"), where + ": 'public_names' is only for target \"local\"");
  std::map<std::string, std::string> urls;
  r.get(t, "urls", urls);
  for (const auto& [svc, url] : urls) {
    check_service(r.where(t, "urls"), svc, where + " urls");
    if (!starts_with(url, "http://") && !starts_with(url, "https://"))
      r.error(r.where(t, "urls"), "URL for '" + svc + "' must start with http:// or https://: '" + url + "'");
    while (!url.empty() && url.back() == '/') urls[svc].pop_back();
  }
  e.urls = urls;
  if (e.target == TargetKind::kLocal && e.listen.empty())
    r.error(r.where(t, "listen"), where + " has target \"local\" but no 'listen' addresses");
  if (e.target == TargetKind::kUrl && e.urls.empty())
    r.error(r.where(t, "urls"), where + " has target \"url\" but no 'urls'");
  if (e.target == TargetKind::kUrl && !e.listen.empty())
    r.error(r.where(t, "listen"), where + ": 'listen' is only for target \"local\"");
}

// `strategy` (all_at_once, canary or a CodeDeploy preset) and the canary's `steps`.
void parse_strategy(TomlReader& r, const toml::table& t, const std::string& where, EnvironmentConfig& e) {
  std::string strategy = "all_at_once";
  r.get(t, "strategy", strategy);
  bool preset = false;
  if (strategy == "canary")
    e.strategy = Strategy::kCanary;
  else if (apply_strategy_preset(strategy, e))
    preset = true;
  else if (strategy != "all_at_once")
    r.error(r.where(t, "strategy"), "unknown strategy '" + strategy +
                                        "' (one of: all_at_once, canary, or a CodeDeploy preset such as "
                                        "Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce)");
  // A preset's steps are its name; its interval may be shortened (rehearsals, tests) with step_interval.
  if (preset && t.get("steps"))
    r.error(r.where(t, "steps"), "strategy \"" + strategy +
                                     "\" sets the steps itself; remove 'steps' or use strategy = \"canary\"");
  r.get(t, "steps", e.steps);
  if (e.strategy != Strategy::kCanary) {
    if (!e.steps.empty()) r.error(r.where(t, "steps"), "'steps' needs strategy = \"canary\"");
    return;
  }
  if (e.steps.empty()) {
    r.error(r.where(t, "strategy"), where + ": strategy \"canary\" needs 'steps', such as [10, 50, 100]");
    return;
  }
  int prev = 0;
  for (int w : e.steps) {
    if (w <= prev || w > 100) {
      r.error(r.where(t, "steps"), "'steps' must rise strictly from 1 to 100, such as [10, 50, 100]");
      break;
    }
    prev = w;
  }
  if (e.steps.back() != 100) r.error(r.where(t, "steps"), "'steps' must end at 100");
}

void parse_environment(TomlReader& r, const toml::table& t, const std::string& where, EnvironmentConfig& e,
                       const ServiceCheck& check_service) {
  r.check_keys(t, where, kEnvKeys);
  parse_target(r, t, e);
  parse_addresses(r, t, where, e, check_service);
  parse_lambda_environment(r, t, e, check_service);
  r.get(t, "requires", e.requires_roles);
  r.get(t, "waiver_roles", e.waiver_roles);
  for (const auto& role : e.waiver_roles)
    if (!valid_name(role))
      r.error(r.where(t, "waiver_roles"),
              "waiver role '" + role + "' may hold only letters, digits, - and _");
  parse_strategy(r, t, where, e);
  r.get_duration(t, "step_interval", e.step_interval);
  parse_canary_options(r, t, e);
  r.get_duration(t, "watch", e.watch);
  r.get_duration(t, "probe_interval", e.probe_interval);
  parse_ssh_environment(r, t, e);
  e.rehearse = !e.requires_roles.empty();
  r.get(t, "rehearse", e.rehearse);
}

// Two listeners on one address cannot both serve; environments are kept apart by address too.
void check_listen_addresses_unique(TomlReader& r, const toml::table& envs, const Config& c) {
  std::map<std::string, std::string> used;  // "host:port" -> "env.service"
  used[c.agent.control.to_string()] = "[agent] control";
  for (const auto& e : c.environments) {
    if (e.target == TargetKind::kSsh) continue;  // addresses on the fleet's hosts, not on this one
    for (const auto& [svc, hp] : e.listen) {
      std::string key = hp.to_string();
      const toml::table* et = envs.get(e.name)->as_table();
      if (auto it = used.find(key); it != used.end()) {
        r.error(r.where(*et, "listen"),
                "listen address " + key + " of " + e.name + "." + svc + " is already used by " + it->second);
      } else {
        used[key] = e.name + "." + svc;
      }
    }
  }
}

void parse_environments(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("environments");
  if (!n || !n->is_table()) {
    r.error(n ? n->source() : root.source(),
            "missing [environments.NAME] tables: at least one environment is needed");
    return;
  }
  std::vector<std::string> service_names;
  for (const auto& s : c.services) service_names.push_back(s.name);
  ServiceCheck check_service = [&](const toml::source_region& at, const std::string& name,
                                   const std::string& where) {
    if (c.service(name)) return;
    std::string hint = suggest(name, service_names);
    r.error(at, where + " names service '" + name + "', which is not defined" +
                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  };
  for (const auto& [k, v] : in_file_order(*n->as_table())) {
    EnvironmentConfig e;
    e.name = std::string(k.str());
    std::string where = "[environments." + e.name + "]";
    if (!valid_name(e.name))
      r.error(k.source(), "environment name '" + e.name + "' may hold only letters, digits, - and _");
    const toml::table* t = v.as_table();
    if (!t) {
      r.error_at(v, where + " must be a table");
      continue;
    }
    parse_environment(r, *t, where, e, check_service);
    c.environments.push_back(std::move(e));
  }
  check_listen_addresses_unique(r, *n->as_table(), c);
}

// build_dir and command are optional so a service villager only checks and watches (named only by url
// environments) needs neither; a service an environment deploys does: local runs `command` from the
// packaged `build_dir`, lambda packages `build_dir`.
void check_deployable(TomlReader& r, const toml::table& root, const Config& c) {
  const toml::table* svcs = root.get("services") ? root.get("services")->as_table() : nullptr;
  if (!svcs) return;
  for (const auto& e : c.environments) {
    if (e.target == TargetKind::kUrl) continue;
    for (const auto& name : c.services_of(e)) {
      const ServiceConfig* s = c.service(name);
      const toml::node* node = svcs->get(name);
      if (!s || !node || !node->as_table()) continue;
      std::vector<std::string> missing;
      if (s->build_dir.empty()) missing.push_back("build_dir");
      if ((e.target == TargetKind::kLocal || e.target == TargetKind::kSsh) && s->command.empty())
        missing.push_back("command");
      if (missing.empty()) continue;
      r.error(node->source(), "[services." + name + "] has no '" + join(missing, "' or '") +
                                  "', but [environments." + e.name + "] (target \"" +
                                  std::string(target_kind_name(e.target)) + "\") deploys it: set " +
                                  join(missing, " and ") +
                                  ", or name the service only in url environments (checked, never deployed)");
    }
  }
}

void parse_smoke(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("smoke");
  if (!n) return;
  const toml::table* t = n->as_table();
  if (!t) {
    r.error_at(*n, "[smoke] must be a table");
    return;
  }
  r.check_keys(*t, "[smoke]", kSmokeKeys);
  SmokeConfig& s = c.smoke;
  r.get(*t, "cors_allowed_origins", s.cors_allowed_origins);
  r.get(*t, "cors_foreign_origin", s.cors_foreign_origin);
  r.get(*t, "storage", s.storage);
  r.get(*t, "logs", s.logs);
  r.get(*t, "auth_status", s.auth_status, 100, 599);
  // access_token_*, write_path, transfers_path, preset, app_version, meta_fields: the sgraph-send
  // profile's (deprecated here), read by apply_profile.
  r.get(*t, "skip", s.skip);
  r.get_duration(*t, "health_timeout", s.health_timeout);
  r.get_duration(*t, "health_deadline", s.health_deadline);
  r.get_duration(*t, "health_interval", s.health_interval);
  r.get(*t, "max_redirects", s.max_redirects, 0, 20);
  parse_smoke_checks(r, *t, c);
  for (const auto& o : s.cors_allowed_origins) {
    if (o == "*")
      r.error(r.where(*t, "cors_allowed_origins"),
              "'*' is not an origin: list the origins the browser may call from");
    else if (!starts_with(o, "http://") && !starts_with(o, "https://"))
      r.error(r.where(*t, "cors_allowed_origins"), "origin '" + o + "' must start with http:// or https://");
  }
}

void parse_monitor(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("monitor");
  if (!n) return;
  const toml::table* t = n->as_table();
  if (!t) {
    r.error_at(*n, "[monitor] must be a table");
    return;
  }
  r.check_keys(*t, "[monitor]", kMonitorKeys);
  std::set<std::string> names;
  each_table(r, t->get("alarm"), "monitor.alarm", [&](const toml::table& at) {
    AlarmConfig a;
    r.check_keys(at, "[[monitor.alarm]]", kAlarmKeys);
    r.get(at, "name", a.name, true);
    r.get(at, "metric", a.metric, true);
    if (!a.metric.empty() && std::find(kMetrics.begin(), kMetrics.end(), a.metric) == kMetrics.end()) {
      std::string hint = suggest(a.metric, kMetrics);
      r.error(r.where(at, "metric"), "unknown metric '" + a.metric + "'" +
                                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                         "; one of: " + join(kMetrics, ", "));
    }
    bool above = at.contains("above"), below = at.contains("below");
    if (above == below)
      r.error(at.source(), "alarm '" + a.name + "' needs exactly one of 'above' or 'below'");
    a.comparison = below ? "below" : "above";
    r.get(at, a.comparison, a.threshold);
    r.get_duration(at, "window", a.window);
    r.get(at, "consecutive", a.consecutive, 1, 1000);
    r.get(at, "severity", a.severity);
    if (std::find(kSeverities.begin(), kSeverities.end(), a.severity) == kSeverities.end())
      r.error(r.where(at, "severity"),
              "unknown severity '" + a.severity + "' (one of: critical, warning, info)");
    r.get(at, "service", a.service);
    if (!a.service.empty() && !c.service(a.service))
      r.error(r.where(at, "service"),
              "alarm '" + a.name + "' names service '" + a.service + "', which is not defined");
    if (!a.name.empty() && !names.insert(a.name).second)
      r.error(r.where(at, "name"), "alarm name '" + a.name + "' is used twice");
    c.monitor.alarms.push_back(std::move(a));
  });
}

void parse_signers(TomlReader& r, const toml::table& root, Config& c) {
  each_table(r, root.get("signer"), "signer", [&](const toml::table& t) {
    SignerConfig s;
    r.check_keys(t, "[[signer]]", kSignerKeys);
    r.get(t, "role", s.role, true);
    r.get(t, "name", s.name, true);
    r.get(t, "public_key", s.public_key, true);
    if (!s.public_key.empty() && !starts_with(s.public_key, "ed25519:"))
      r.error(r.where(t, "public_key"),
              "'public_key' must look like \"ed25519:<base64>\" (from `villager keys generate`)");
    c.signers.push_back(std::move(s));
  });
}

// The HTTPS keys of [agent]. Files are only named here; the agent reads them (and checks the keys'
// permissions) when it starts its listeners.
void parse_agent_tls(TomlReader& r, const toml::table& t, Config& c) {
  std::vector<std::string> certs, keys;
  r.get(t, "tls_cert", certs);
  r.get(t, "tls_key", keys);
  if (certs.size() != keys.size())
    r.error(r.where(t, certs.size() < keys.size() ? "tls_key" : "tls_cert"),
            "[agent] tls_cert and tls_key pair by position: " + std::to_string(certs.size()) +
                " certificate(s), " + std::to_string(keys.size()) + " key(s)");
  auto resolve = [&](const std::string& p) {
    std::filesystem::path path(p);
    return path.is_absolute() ? path : c.root / path;
  };
  for (const auto& p : certs) c.agent.tls_cert.push_back(resolve(p));
  for (const auto& p : keys) c.agent.tls_key.push_back(resolve(p));
  r.get(t, "tls_environments", c.agent.tls_environments);
  if (!c.agent.tls_environments.empty() && certs.empty())
    r.error(r.where(t, "tls_environments"), "[agent] tls_environments needs tls_cert and tls_key");
  std::string ca;
  r.get(t, "tls_ca", ca);
  if (!ca.empty()) c.agent.tls_ca = resolve(ca);
  if (!ca.empty() && certs.empty())
    r.error(
        r.where(t, "tls_ca"),
        "[agent] tls_ca is the trust root for the agent's HTTPS listeners: it needs tls_cert and tls_key");
  r.get_duration(t, "tls_reload_interval", c.agent.tls_reload_interval);
  if (t.get("redirect_http")) {
    HostPort hp;
    r.get_host_port(t, "redirect_http", hp);
    c.agent.redirect_http = hp;
    if (certs.empty())
      r.error(r.where(t, "redirect_http"),
              "[agent] redirect_http redirects to HTTPS: it needs tls_cert and tls_key");
  }
  r.get(t, "redirect_https_port", c.agent.redirect_https_port, 1, 65535);
}

void parse_agent(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("agent");
  if (!n) return;
  const toml::table* t = n->as_table();
  if (!t) {
    r.error_at(*n, "[agent] must be a table");
    return;
  }
  r.check_keys(*t, "[agent]", kAgentKeys);
  r.get_host_port(*t, "control", c.agent.control);
  r.get(*t, "max_header_bytes", c.agent.max_header_bytes, 1024, 1 << 20);
  r.get(*t, "max_body_bytes", c.agent.max_body_bytes, 0, size_t{1} << 40);
  r.get(*t, "max_connections", c.agent.max_connections, 0, 1'000'000);
  r.get(*t, "max_connections_per_ip", c.agent.max_connections_per_ip, 0, 1'000'000);
  r.get(*t, "max_inflight_per_release", c.agent.max_inflight_per_release, 0, 1'000'000);
  r.get_duration(*t, "idle_timeout", c.agent.idle_timeout);
  r.get_duration(*t, "upstream_timeout", c.agent.upstream_timeout);
  r.get(*t, "forwarded", c.agent.forwarded);
  if (c.agent.forwarded != "drop" && c.agent.forwarded != "append") {
    if (const toml::node* f = t->get("forwarded"))
      r.error_at(*f, "[agent] forwarded must be \"drop\" or \"append\", not \"" + c.agent.forwarded + "\"");
  }
  parse_agent_tls(r, *t, c);
  r.get_duration(*t, "upgraded_idle_timeout", c.agent.upgraded_idle_timeout);
  r.get_duration(*t, "upgrade_drain_timeout", c.agent.upgrade_drain_timeout);
}

// tls_environments names environments, which are parsed after [agent]: checked here, once they are.
void check_agent_tls(TomlReader& r, const toml::table& root, const Config& c) {
  const toml::table* t = root.get("agent") ? root.get("agent")->as_table() : nullptr;
  if (!t) return;
  for (const std::string& name : c.agent.tls_environments) {
    const EnvironmentConfig* env = c.environment(name);
    if (!env) {
      r.error(r.where(*t, "tls_environments"), "[agent] tls_environments: no environment '" + name + "'");
    } else if (env->target != TargetKind::kLocal) {
      r.error(r.where(*t, "tls_environments"),
              "[agent] tls_environments: '" + name +
                  "' is not a local environment (the agent serves only those)");
    }
  }
}

}  // namespace

std::string HostPort::to_string() const {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(const std::string& text) {
  HostPort hp;
  std::string port;
  if (starts_with(text, "[")) {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return InvalidArgument("bad address '" + text + "' (expected [::1]:8080)");
    hp.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return InvalidArgument("bad address '" + text + "' (expected HOST:PORT such as 127.0.0.1:8080)");
    hp.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (hp.host.find(':') != std::string::npos)
      return InvalidArgument("bad address '" + text + "' (write IPv6 addresses as [::1]:8080)");
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit))
    return InvalidArgument("bad port in '" + text + "'");
  int p = std::stoi(port);
  if (p < 1 || p > 65535) return InvalidArgument("port out of range in '" + text + "' (1-65535)");
  hp.port = static_cast<uint16_t>(p);
  return hp;
}

const std::vector<std::string>& target_kind_names() {
  static const std::vector<std::string> names = {"local", "url", "lambda", "ssh"};
  return names;
}

std::string_view target_kind_name(TargetKind kind) {
  return target_kind_names()[static_cast<size_t>(kind)];
}

std::optional<TargetKind> parse_target_kind(std::string_view name) {
  const auto& names = target_kind_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<TargetKind>(i);
  return std::nullopt;
}

const ServiceConfig* Config::service(const std::string& name) const {
  for (const auto& s : services)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> Config::services_of(const EnvironmentConfig& env) const {
  std::vector<std::string> out;
  for (const auto& s : services)
    if (env.serves(s.name)) out.push_back(s.name);
  return out;
}

const EnvironmentConfig* Config::environment(const std::string& name) const {
  for (const auto& e : environments)
    if (e.name == name) return &e;
  return nullptr;
}

std::filesystem::path Config::state_dir() const {
  std::filesystem::path p(project.state_dir);
  return p.is_absolute() ? p : root / p;
}

Result<Config> parse_config(const std::string& text, const std::filesystem::path& file) {
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return InvalidArgument(file.string() + ":" + std::to_string(e.source().begin.line) + ":" +
                           std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  TomlReader r(file);
  Config c;
  c.file = std::filesystem::absolute(file).lexically_normal();
  c.root = c.file.parent_path();
  r.check_keys(root, "the top level", kTopKeys);
  parse_project(r, root, c);
  parse_agent(r, root, c);
  parse_services(r, root, c);
  parse_environments(r, root, c);
  check_agent_tls(r, root, c);
  check_deployable(r, root, c);
  parse_smoke(r, root, c);
  apply_profile(r, root, c);
  parse_monitor(r, root, c);
  parse_signers(r, root, c);
  parse_gate(r, root, c);
  parse_notify(r, root, c);
  parse_ci(r, root, c);
  c.warnings = r.warnings();
  c.deprecations = r.deprecations();
  if (!r.errors().empty()) {
    // Report in file order, whatever order the checks ran in.
    auto errors = r.errors();
    auto pos = [&](const std::string& e) {
      auto parts = split(e.substr(file.string().size() + 1), ':');
      return std::make_pair(std::atoi(parts[0].c_str()),
                            std::atoi(parts.size() > 1 ? parts[1].c_str() : "0"));
    };
    std::stable_sort(errors.begin(), errors.end(),
                     [&](const auto& a, const auto& b) { return pos(a) < pos(b); });
    return InvalidArgument(join(errors, "\n"));
  }
  return c;
}

Result<Config> load_config(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) return text.error().context("loading config");
  return parse_config(*text, file);
}

}  // namespace villager::config
