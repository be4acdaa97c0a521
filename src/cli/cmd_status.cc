#include <iostream>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/hash.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/issues_view.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"
#include "cli/release_channel.h"
#include "cli/views.h"
#include "pipeline/deploy.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp = R"(usage: villager status [ENV] [--json | --markdown]

Shows, per environment and service: the serving version and digest, the traffic weights,
the warm previous release, health, uptime and restarts. Without ENV, every environment.
Environments with target "url" show their URLs (villager does not run them). A fleet (target "ssh")
shows a host x release grid, each host read on its own: an unreachable host is named with why, and a
service running more than one version across the hosts is flagged MIXED.
Ends with the project's issues (as `villager issues` prints them); not with --json.

options:
  -c, --config FILE  the config file (default ./villager.toml)
  --json             print JSON: {"environments": [{"name", "target", "services": [...]}]}; a fleet
                     adds "hosts": [{"host", "address", "services": {svc: {"version", ...}}, "error"?}]
                     and "mixed": {svc: {version: [hosts]}}, and "alarms": [{"alarm":
                     "fleet_mixed_versions", "service", "severity", "since"}] while a change left
                     the hosts on more than one release (raised when that deploy or rollback ended)
  --markdown         print the status update as posted to the [[notify]] channels: the known-good
                     version per environment and service, ending with the open issues (issues-fs list)
)";

// `s` and spaces to `width` (at least one space).
std::string padded(std::string s, size_t width) {
  s.resize(std::max(width, s.size() + 1), ' ');
  return s;
}

// A fleet's host x release grid, then every service that runs more than one version across the hosts.
void print_fleet_grid(const json& je) {
  std::vector<std::string> services;
  for (const auto& js : je["services"]) services.push_back(js["service"].get<std::string>());
  std::cout << "  " << padded("host", 10);
  for (const auto& s : services) std::cout << padded(s, 22);
  std::cout << "\n";
  for (const auto& h : je["hosts"]) {
    std::cout << "  " << padded(h["host"].get<std::string>(), 10);
    if (h.contains("error")) {
      std::cout << "UNREACHABLE: " << redact(h["error"].get<std::string>()) << "\n";
      continue;
    }
    for (const auto& s : services) {
      std::string cell = "-";
      if (h["services"].contains(s)) {
        const auto& v = h["services"][s];
        cell = v["version"].get<std::string>() + (v["healthy"].get<bool>() ? "" : " DOWN");
      }
      std::cout << padded(cell, 22);
    }
    std::cout << "\n";
  }
  for (auto& [service, by_version] : je["mixed"].items()) {
    std::vector<std::string> parts;
    for (auto& [version, hosts] : by_version.items())
      parts.push_back(version + " on " + join(hosts.get<std::vector<std::string>>(), ", "));
    std::cout << "  MIXED " << service << ": " << join(parts, "; ") << "\n";
  }
  for (const auto& a : je.value("alarms", json::array()))
    std::cout << "  ALARM " << a["alarm"].get<std::string>() << " (" << a["severity"].get<std::string>()
              << "): " << a["service"].get<std::string>()
              << " left on more than one release by a change, since " << a["since"].get<std::string>()
              << ": `villager deploy " << je["name"].get<std::string>()
              << "` brings every host to one release\n";
}

// The status update, from the store: no agent or cloud call is needed.
int print_markdown(const config::Config& cfg, const std::vector<std::string>& only) {
  auto st = store::Store::open(cfg.state_dir());
  if (!st) return report_error(st.error(), kExitFailed);
  if (!only.empty() && !cfg.environment(only[0]))
    return report_error("no environment '" + only[0] + "' in " + cfg.file.string(), kExitUsage);
  notify::StatusInput in = current_status(cfg, **st);
  if (!only.empty())
    std::erase_if(in.rows, [&](const notify::StatusRow& r) { return r.environment != only[0]; });
  in.headline = "status" + (only.empty() ? std::string() : " " + only[0]);
  std::cout << notify::status_markdown(in);
  return kExitOk;
}

int run_status(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"json"}, {"markdown"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() > 1) return report_error("status takes at most one ENV", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  if (args->has("markdown")) return print_markdown(*cfg, args->positionals());
  std::vector<const config::EnvironmentConfig*> envs;
  if (args->positionals().empty()) {
    for (const auto& e : cfg->environments) envs.push_back(&e);
  } else {
    auto t = make_environment_target(*cfg, args->positionals()[0]);
    if (!t && t.error().code == Code::kInvalidArgument) return report_error(t.error(), kExitUsage);
    envs.push_back(cfg->environment(args->positionals()[0]));
  }
  json out = json::array();
  bool failed = false;
  for (const auto* env : envs) out.push_back(environment_status_json(*cfg, *env, failed));
  if (args->has("json")) {
    std::cout << redact(json{{"environments", out}}.dump(2)) << "\n";
    return failed ? kExitFailed : kExitOk;
  }
  for (const auto& je : out) {
    std::cout << je["name"].get<std::string>() << " (" << je["target"].get<std::string>() << ")";
    if (je.contains("error")) std::cout << "  unavailable: " << redact(je["error"].get<std::string>());
    std::cout << "\n";
    if (je.contains("hosts")) print_fleet_grid(je);
    for (const auto& js : je["services"]) {
      std::cout << "  " << js["service"].get<std::string>() << "  " << js["url"].get<std::string>() << "\n";
      if (js.contains("serving")) {
        const auto& s = js["serving"];
        std::cout << "    serving  " << s["version"].get<std::string>() << "  "
                  << short_digest(s["digest"].get<std::string>()) << "  "
                  << (s["healthy"].get<bool>() ? "healthy" : "UNHEALTHY") << "  up "
                  << format_duration(std::chrono::milliseconds(s["uptime_ms"].get<int64_t>() / 1000 * 1000))
                  << "  restarts " << s["restarts"].get<int>() << "\n";
      } else if (je["target"] == "local") {
        std::cout << "    serving  nothing\n";
      }
      if (js.contains("warm"))
        std::cout << "    warm     " << js["warm"]["version"].get<std::string>() << "  "
                  << short_digest(js["warm"]["digest"].get<std::string>()) << "  (instant rollback)\n";
      if (js.contains("starting"))
        std::cout << "    starting " << js["starting"]["version"].get<std::string>() << "\n";
      if (js.contains("held")) {
        const auto& h = js["held"];
        std::cout << "    HELD     " << h["version"].get<std::string>() << " at " << h["weight"].get<int>()
                  << "% since " << h["since"].get<std::string>()
                  << " (canary inconclusive): " << h["next"].get<std::string>() << "\n";
      }
      if (!js["weights"].empty()) {
        std::cout << "    weights ";
        for (auto& [k, v] : js["weights"].items()) std::cout << " " << k << "=" << v.get<int>() << "%";
        std::cout << "\n";
      }
    }
  }
  std::cout << "\nIssues\n";
  (void)print_project_issues(std::cout, cfg->root);  // malformed lines are warned about, not a failure
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

const Command kStatusCommand = {"status", "what each environment serves: versions, weights, health", kHelp,
                                run_status};

}  // namespace villager::cli
