#include <algorithm>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/project.h"
#include "monitor/runbook.h"
#include "store/store.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager runbook ENV [-o FILE]

Writes the environment's runbook as markdown: what is monitored, each alarm and what it means, where
alerts go, how to roll back and how long that took here (from the store's past rollbacks).

options:
  -o, --output FILE  write to FILE instead of stdout
  -c, --config FILE  the config file (default ./villager.toml)

exit: 0 written, 1 failed, 2 usage or config error.
)";

// Durations of the environment's finished rollbacks, from the store (none when there is no store yet).
Result<monitor::RollbackFacts> rollback_facts(const config::Config& cfg, const std::string& env) {
  monitor::RollbackFacts f;
  store::OpenOptions oo;
  oo.create_if_missing = false;
  auto st = store::Store::open(cfg.state_dir(), oo);
  if (!st) {
    if (st.error().code == Code::kNotFound) return f;
    return st.error();
  }
  store::DeploymentFilter filter;
  filter.environment = env;
  filter.limit = 0;
  auto rows = store::list_deployments(**st, filter);
  if (!rows) return rows.error();
  std::vector<int64_t> ms;
  for (const auto& d : *rows)
    if (d.kind == store::DeploymentKind::kRollback && d.finished_at)
      ms.push_back(*d.finished_at - d.started_at);
  if (ms.empty()) return f;
  std::sort(ms.begin(), ms.end());
  f.count = static_cast<int>(ms.size());
  f.median_ms = ms[ms.size() / 2];
  f.max_ms = ms.back();
  return f;
}

int run_runbook(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"output", true, 'o'}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() != 1)
    return report_error("runbook needs exactly one ENV (see --help)", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  const std::string& env = args->positionals()[0];
  if (!cfg->environment(env))
    return report_error("no environment '" + env + "' in " + cfg->file.string(), kExitUsage);
  auto facts = rollback_facts(*cfg, env);
  if (!facts) return report_error(facts.error().context("reading past rollbacks"), kExitFailed);
  auto md = monitor::write_runbook(*cfg, env, *facts);
  if (!md) return report_error(md.error(), kExitUsage);
  if (args->has("output")) {
    std::string path = args->get("output", "");
    std::ofstream out(path, std::ios::trunc);
    out << *md;
    out.close();
    if (!out) return report_error("writing " + path + ": cannot write", kExitFailed);
    std::cerr << "villager: runbook for " << env << " written to " << path << "\n";
    return kExitOk;
  }
  std::cout << *md;
  return kExitOk;
}

}  // namespace

const Command kRunbookCommand = {"runbook", "markdown runbook: monitoring, alarms, channels, rollback", kHelp,
                                 run_runbook};

}  // namespace villager::cli
