#include <iostream>
#include <nlohmann/json.hpp>

#include "artifact/manifest.h"
#include "base/hash.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/actor.h"
#include "cli/commands.h"
#include "cli/monitor_hooks.h"
#include "cli/pipeline_hooks.h"
#include "cli/project.h"
#include "cli/release_channel.h"
#include "pipeline/deploy.h"
#include "store/env_lock.h"
#include "store/store.h"

namespace villager::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHelp =
    R"(usage: villager deploy ENV [--service S]... [--artifact sha256:HEX]... [--first]
                       [--accept-inconclusive] [--no-wait] [--junit FILE] [--json]

Deploys to an environment, in order: package (when no artifact is named), verify the
artifacts, check the environment's gate, check that the release can be rolled back, start
each candidate with no traffic and wait for its health check, smoke-test the candidate,
shift traffic by the environment's strategy (all_at_once, or canary steps with a pause
between them), promote (the previous release stays warm), smoke-test the public
endpoints, and mark the release known-good. Every step is recorded in the store and the
audit log. A candidate that never becomes healthy fails the deploy and moves no traffic.

options:
  --service S           deploy only this service (repeatable; default: every service of ENV)
  --artifact DIGEST     deploy this packaged artifact (repeatable; its manifest names the service)
  --first               allow a first deploy, when nothing serves yet to roll back to
  --override            break-glass: deploy without the required approvals; needs --reason and a
                        valid approval by a signer of the override role (default "conductor")
  --reason TEXT         why the override (recorded in the audit log and the deployment)
  --accept-inconclusive a canary step still inconclusive at its deadline continues (default: roll back)
  --no-wait             return once traffic is at 100%; the agent watches and rolls back on its own
  --junit FILE          write the JUnit report of each smoke suite the deploy runs to FILE: after a
                        deploy it holds the public endpoints' suite, else the suite that stopped it
  -c, --config FILE     the config file (default ./villager.toml)
  --json                print the outcome as JSON

exit: 0 deployed, 1 failed (no traffic moved), 2 usage or config error, 3 refused (gate,
secret scan, nothing to roll back to, or a held deploy to finish first), 4 deployed and then
rolled back, 5 held: a canary step inconclusive at its deadline with on_inconclusive = "hold";
traffic stays split until `villager promote ENV` or `villager rollback ENV`.
)";

void print_outcome(const pipeline::DeployOutcome& o, const std::string& env, bool as_json) {
  if (as_json) {
    json services = json::array();
    for (const auto& s : o.services)
      services.push_back({{"service", s.service},
                          {"version", s.version},
                          {"digest", s.digest},
                          {"from_digest", s.from_digest},
                          {"from_version", s.from_version},
                          {"deployment_id", s.deployment_id},
                          {"status", s.status}});
    json out{{"environment", env},
             {"exit_code", o.exit_code},
             {"message", o.message},
             {"duration_ms", o.duration_ms},
             {"services", services}};
    if (!o.gate_json.empty()) out["gate"] = json::parse(o.gate_json, nullptr, false);
    if (o.approval_to_deployed_ms >= 0) out["approval_to_deployed_ms"] = o.approval_to_deployed_ms;
    std::cout << redact(out.dump(2)) << "\n";
    return;
  }
  for (const auto& s : o.services)
    std::cout << env << "/" << s.service << "  " << s.version << "  " << short_digest(s.digest) << "  "
              << (s.status.empty() ? "not started" : s.status)
              << (s.from_version.empty() ? "" : "  (was " + s.from_version + ")") << "\n";
  if (o.exit_code == 0)
    std::cout << "deployed in " << format_duration(std::chrono::milliseconds(o.duration_ms)) << "\n";
}

int run_deploy(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag,
                                 {"service", true},
                                 {"artifact", true},
                                 {"first"},
                                 {"json"},
                                 {"override"},
                                 {"reason", true},
                                 {"accept-inconclusive"},
                                 {"no-wait"},
                                 {"junit", true}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() != 1)
    return report_error("deploy needs exactly one ENV (see --help)", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  const std::string env = args->positionals()[0];
  auto lock = store::lock_environment(cfg->state_dir(), env, "deploy by " + current_actor());
  if (!lock) return report_error(lock.error(), exit_code_for(lock.error()));
  auto target = make_environment_target(*cfg, env);
  if (!target) return report_error(target.error(), exit_code_for(target.error()));
  auto st = store::Store::open(cfg->state_dir());
  if (!st) return report_error(st.error(), kExitFailed);

  pipeline::DeployRequest req;
  req.environment = env;
  req.services = args->get_all("service");
  req.first = args->has("first");
  req.override_gate = args->has("override");
  req.override_reason = args->get("reason");
  if (req.override_gate && req.override_reason.empty())
    return report_error("--override needs --reason TEXT (recorded in the audit log and the review)",
                        kExitUsage);
  req.actor = current_actor();
  for (const auto& text : args->get_all("artifact")) {
    auto digest = Digest::parse(text);
    if (!digest) return report_error(digest.error().context("--artifact " + text), kExitUsage);
    auto m = artifact::read_manifest(cfg->state_dir() / "artifacts", *digest);
    if (!m) return report_error(m.error().context("--artifact " + text), kExitUsage);
    req.artifacts[m->service] = *digest;
    if (req.services.empty() ||
        std::find(req.services.begin(), req.services.end(), m->service) == req.services.end())
      req.services.push_back(m->service);
  }
  auto hooks = make_deploy_hooks(*cfg, env, **st, args->get("junit"));
  ReleaseChannel channel(*cfg, **st, req.actor);
  channel.attach(hooks);
  auto progress = stderr_progress("deploy " + env);
  add_monitor_hooks(hooks, *cfg, env, {args->has("accept-inconclusive"), args->has("no-wait"), progress},
                    real_clock());
  if (auto* fleet = (*target)->fleet()) add_fleet_watch(hooks, *cfg, env, *fleet, progress, real_clock());
  auto outcome = pipeline::deploy(*cfg, **st, **target, req, hooks, real_clock(), progress);
  // Every deployment leaves a review document, whatever its outcome.
  auto reviews =
      write_reviews(*cfg, **st, outcome.services, outcome.exit_code == 0 ? "" : outcome.message, progress);
  channel.status_update(env, "deploy " + env, outcome.message, outcome.services, reviews);
  print_outcome(outcome, env, args->has("json"));
  if (outcome.exit_code != 0 && !args->has("json")) report_error(outcome.message, outcome.exit_code);
  std::cout.flush();
  channel.finish();  // after the result: pending sends get at most the channels' timeout
  return outcome.exit_code;
}

}  // namespace

const Command kDeployCommand = {"deploy", "ship a release to an environment, smoke-tested and rollback-ready",
                                kHelp, run_deploy};

}  // namespace villager::cli
