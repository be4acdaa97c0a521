#include <iostream>
#include <nlohmann/json.hpp>

#include "base/redact.h"
#include "base/strings.h"
#include "cli/actor.h"
#include "cli/commands.h"
#include "cli/held_action.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"
#include "cli/rollback_action.h"
#include "pipeline/deploy.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp =
    R"(usage: villager rollback ENV [--service S]... [--to VERSION] [--reason TEXT] [--json]

Routes traffic back to the previous known-good release of each service. When that release is
still running warm beside the serving one, this is a route swap; otherwise it is started,
health-checked, then swapped in. The release rolled back from is stopped. Records the
rollback and prints how long the swap took.

When a deploy of ENV is held (a canary inconclusive at its deadline with on_inconclusive =
"hold"), rollback ends the hold instead: the serving release takes 100% of the traffic again,
the held candidate is stopped and its deployment is recorded as rolled back.

options:
  --service S        roll back only this service (repeatable; default: every service of ENV)
  --to VERSION       roll back to this known-good version instead of the previous one
  --reason TEXT      why (recorded in the store, the audit log and the review)
  -c, --config FILE  the config file (default ./villager.toml)
  --json             print the outcome as JSON

exit: 0 rolled back, 1 failed, 2 usage or config error.
)";

void print_outcome(const std::string& env, const pipeline::RollbackOutcome& o, bool json_output) {
  if (json_output) {
    json services = json::array();
    for (const auto& s : o.services)
      services.push_back({{"service", s.service},
                          {"version", s.version},
                          {"digest", s.digest},
                          {"from_version", s.from_version},
                          {"from_digest", s.from_digest},
                          {"status", s.status},
                          {"warm", o.warm.count(s.service) ? o.warm.at(s.service) : false},
                          {"swap_ms", o.swap_ms.count(s.service) ? o.swap_ms.at(s.service) : -1}});
    std::cout << redact(json{{"environment", env},
                             {"exit_code", o.exit_code},
                             {"message", o.message},
                             {"duration_ms", o.duration_ms},
                             {"services", services}}
                            .dump(2))
              << "\n";
  } else {
    for (const auto& s : o.services)
      std::cout << env << "/" << s.service << "  " << s.from_version << " -> " << s.version << "  "
                << s.status << "  swap "
                << (o.swap_ms.count(s.service) ? std::to_string(o.swap_ms.at(s.service)) : "-") << " ms"
                << (o.warm.count(s.service) && o.warm.at(s.service) ? " (warm)" : " (cold)") << "\n";
    if (o.exit_code != 0)
      report_error(o.message, o.exit_code);
    else
      std::cout << o.message << " in " << o.duration_ms << " ms\n";
  }
  std::cout.flush();
}

int run_rollback(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"service", true}, {"to", true}, {"reason", true}, {"json"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() != 1)
    return report_error("rollback needs exactly one ENV (see --help)", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  const std::string env = args->positionals()[0];
  pipeline::RollbackRequest req;
  req.environment = env;
  req.services = args->get_all("service");
  req.to_version = args->get("to");
  req.actor = current_actor();
  req.reason = args->get("reason", "manual");
  if (environment_held(*cfg, env, req.services)) {
    auto held = finish_held(*cfg, {env, req.services, false, req.actor}, stderr_progress("rollback " + env));
    if (!held) return report_error(held.error(), exit_code_for(held.error()));
    if (args->has("json"))
      std::cout << redact(
                       json{{"environment", env}, {"exit_code", held->exit_code}, {"message", held->message}}
                           .dump(2))
                << "\n";
    else if (held->exit_code == 0)
      std::cout << held->message << "\n";
    else
      report_error(held->message, held->exit_code);
    return held->exit_code;
  }
  auto o =
      manual_rollback(*cfg, req, stderr_progress("rollback " + env),
                      [&](const pipeline::RollbackOutcome& o) { print_outcome(env, o, args->has("json")); });
  if (!o) return report_error(o.error(), exit_code_for(o.error()));
  return o->exit_code;
}

}  // namespace

const Command kRollbackCommand = {"rollback", "route an environment back to its previous known-good release",
                                  kHelp, run_rollback};

}  // namespace villager::cli
