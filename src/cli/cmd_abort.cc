#include "cli/abort_action.h"
#include "cli/actor.h"
#include "cli/commands.h"
#include "cli/outcome_output.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager abort ENV [--service S]... [--reason TEXT] [--json]

Aborts the canary of ENV: everything goes back to the serving release and the candidate is
stopped, the deployment recorded as rolled back, "aborted by <you>".

A running canary belongs to its `villager deploy` process (which holds ENV's lock, so
`villager rollback` is refused meanwhile): abort records the request in the state store, the
deploy reads it before each traffic step and between its canary waits (every 0.5 s), and rolls
back exactly as a failed canary does. abort waits for that (at most 60 s) and prints the outcome;
the deploy itself exits 4. A canary past its last step (at 100%) is not aborted: roll it back.
A held canary (on_inconclusive = "hold") has no process left: abort routes it back itself, as
`villager rollback ENV` would. A fleet's batched rollout (target "ssh") cannot be aborted.

options:
  --service S        abort the deploy of this service (repeatable; default: every service of ENV).
                     A deploy of several services is rolled back as a whole, as a failed canary is
  --reason TEXT      why (recorded with the request, in the audit log and on the deployment)
  -c, --config FILE  the config file (default ./villager.toml)
  --json             print the outcome as JSON

exit: 0 rolled back, 1 failed (or the deploy did not act on the request in time, or reached 100%
first), 2 usage error or nothing running or held to abort.
)";

int run_abort(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"service", true}, {"reason", true}, {"json"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() != 1)
    return report_error("abort needs exactly one ENV (see --help)", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  const std::string env = args->positionals()[0];
  AbortCanaryAction req{env, args->get_all("service"), current_actor(), args->get("reason", "")};
  auto o = abort_canary(*cfg, req, stderr_progress("abort " + env));
  if (!o) return report_error(o.error(), exit_code_for(o.error()));
  return print_change_outcome(env, o->exit_code, o->message, o->services, args->has("json"),
                              {{"held", o->held}, {"duration_ms", o->duration_ms}});
}

}  // namespace

const Command kAbortCommand = {"abort", "abort a running or held canary: back to the serving release", kHelp,
                               run_abort};

}  // namespace villager::cli
