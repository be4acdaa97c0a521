#include <iostream>
#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/actor.h"
#include "cli/commands.h"
#include "cli/held_action.h"
#include "cli/outcome_output.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp = R"(usage: villager promote ENV [--service S]... [--json]

Finishes a held deploy by promoting it. A deploy is held when its canary step was still
inconclusive at max_step_duration and the environment says on_inconclusive = "hold": traffic
stays split and the deploy exits 5. promote moves the candidate to 100%, marks it serving (the
previous release stays warm for an instant rollback), smoke-tests the public endpoints (a
failure routes back to the previous release) and marks it known-good. The watch is not run
again. `villager rollback ENV` is the other way out of a hold.

options:
  --service S        promote only this held service (repeatable; default: every held service)
  -c, --config FILE  the config file (default ./villager.toml)
  --json             print the outcome as JSON

exit: 0 promoted, 1 failed, 2 usage error or nothing held, 4 the smoke suite failed and traffic
went back to the previous release.
)";

int run_promote(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"service", true}, {"json"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() != 1)
    return report_error("promote needs exactly one ENV (see --help)", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  const std::string env = args->positionals()[0];
  if (!cfg->environment(env))
    return report_error("no environment '" + env + "' in " + cfg->file.string(), kExitUsage);
  pipeline::ResolveHeldRequest req{env, args->get_all("service"), true, current_actor()};
  auto o = finish_held(*cfg, req, stderr_progress("promote " + env));
  if (!o) return report_error(o.error(), exit_code_for(o.error()));
  return print_change_outcome(env, o->exit_code, o->message, o->services, args->has("json"));
}

}  // namespace

const Command kPromoteCommand = {"promote", "finish a held canary: the candidate to 100%", kHelp,
                                 run_promote};

}  // namespace villager::cli
