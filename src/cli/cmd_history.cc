#include <iostream>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "cli/views.h"
#include "store/store.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp = R"(usage: villager history [ENV] [--limit N] [--json [--steps]]

Lists deployments and rollbacks, newest first, with their outcome and timings.

options:
  --limit N          at most N entries (default 50)
  -c, --config FILE  the config file (default ./villager.toml)
  --json             print JSON: {"deployments": [{id, environment, service, kind, version, digest,
                     from_digest, status, actor, started_at, finished_at, duration_ms,
                     started_at_ms, finished_at_ms}]}
  --steps            with --json: each deployment's "steps" [{seq, name, kind, arg, status, started_at,
                     finished_at, duration_ms, detail}]; a canary step's detail is its analysis
                     (verdict, n per side, per metric statistic z, p, limit and rule)
)";

int run_history(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"limit", true}, {"json"}, {"steps"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  store::DeploymentFilter f;
  if (!args->positionals().empty()) {
    f.environment = args->positionals()[0];
    if (!cfg->environment(f.environment))
      return report_error("no environment '" + f.environment + "' in " + cfg->file.string(), kExitUsage);
  }
  f.limit = std::atoi(args->get("limit", "50").c_str());
  if (f.limit <= 0) return report_error("--limit must be a positive number", kExitUsage);
  store::OpenOptions oo;
  oo.create_if_missing = false;
  auto st = store::Store::open(cfg->state_dir(), oo);
  std::vector<store::Deployment> rows;
  if (st) {
    auto r = store::list_deployments(**st, f);
    if (!r) return report_error(r.error(), kExitFailed);
    rows = *r;
  } else if (st.error().code != Code::kNotFound) {
    return report_error(st.error(), kExitFailed);
  }
  if (args->has("json")) {
    json out = json::array();
    for (const auto& d : rows) {
      json j = deployment_json(d);
      if (args->has("steps")) {
        auto steps = steps_json(**st, d.id);
        if (!steps) return report_error(steps.error(), kExitFailed);
        j["steps"] = *steps;
      }
      out.push_back(std::move(j));
    }
    std::cout << redact(json{{"deployments", out}}.dump(2)) << "\n";
    return kExitOk;
  }
  if (rows.empty()) {
    std::cout << "no deployments yet\n";
    return kExitOk;
  }
  std::cout << "ID    WHEN                      ENV/SERVICE          KIND      VERSION   STATUS       TOOK\n";
  for (const auto& d : rows) {
    std::string took =
        d.finished_at ? format_duration(std::chrono::milliseconds(*d.finished_at - d.started_at)) : "-";
    char line[256];
    std::snprintf(line, sizeof line, "%-5lld %-25s %-20s %-9s %-9s %-12s %s\n", static_cast<long long>(d.id),
                  format_rfc3339(from_unix_millis(d.started_at)).c_str(),
                  (d.environment + "/" + d.service).c_str(), std::string(store::to_string(d.kind)).c_str(),
                  d.version.c_str(), std::string(store::to_string(d.status)).c_str(), took.c_str());
    std::cout << line;
  }
  return kExitOk;
}

}  // namespace

const Command kHistoryCommand = {"history", "deployments and rollbacks with outcome and timings", kHelp,
                                 run_history};

}  // namespace villager::cli
