// The three GitHub workflows: dev, production and rollback (docs/ci.md shows them annotated).

#include "base/strings.h"
#include "ci/ci.h"
#include "ci/github_steps.h"
#include "ci/plan.h"

namespace villager::ci {

namespace {

constexpr const char* kWorkflowsDir = ".github/workflows/";

std::string header(const Plan& plan, const std::string& what) {
  const std::string& c = plan.config_path;
  return std::string(kGeneratedMarker) + " from " + c + ": " + what + ".\n" +
         "# Do not edit: changes here are lost. Change " + c + ", then run\n" + "#   villager ci github -c " +
         c + "\n" + "# `villager ci check -c " + c + "` (run by the test job) fails while this file and\n" +
         "# " + c + " disagree.\n";
}

Yaml first_input() {
  return Yaml::map().set(
      "first",
      Yaml::map()
          .set("description", "first deploy: nothing serves yet, so there is nothing to roll back to")
          .set("type", Yaml::raw("boolean"))
          .set("default", Yaml::raw("false")));
}

// Settings every workflow shares: least privilege, and every villager command finds the config.
void add_common(Yaml& wf, const Plan& plan) {
  wf.set("permissions", Yaml::map().set("contents", "read"));
  // Who ran it, for the store, the audit log and the review documents.
  wf.set("env", Yaml::map()
                    .set("VILLAGER_CONFIG", plan.config_path)
                    .set("VILLAGER_ACTOR", "${{ github.actor }}@github-actions"));
}

std::string dump(const Plan& plan, const std::string& what, const Yaml& wf) {
  return header(plan, what) + wf.dump();
}

GeneratedFile dev_workflow(const Plan& plan) {
  const auto& env = *plan.dev;
  Yaml wf = Yaml::map().set("name", "villager dev: deploy to " + env.name);
  wf.set("on", Yaml::map()
                   .set("push", Yaml::map().set("branches", Yaml::strings({plan.config->ci.dev_branch})))
                   .set("workflow_dispatch", Yaml::map().set("inputs", first_input())));
  add_common(wf, plan);
  Yaml jobs = Yaml::map();
  jobs.set("test", test_job(plan));
  jobs.set("package", package_job(plan, plan.config->services_of(env)));
  jobs.set("deploy", deploy_job(plan, env, {"package"}));
  wf.set("jobs", std::move(jobs));
  return {
      std::string(kWorkflowsDir) + "villager-dev.yml",
      dump(plan, "push to " + plan.config->ci.dev_branch + " -> test, package, deploy to " + env.name, wf)};
}

GeneratedFile production_workflow(const Plan& plan) {
  const auto& env = *plan.production;
  const auto services = plan.config->services_of(env);
  Yaml wf = Yaml::map().set("name", "villager production: deploy to " + env.name);
  wf.set("on", Yaml::map()
                   .set("push", Yaml::map().set("tags", Yaml::strings(plan.config->ci.release_tags)))
                   .set("workflow_dispatch", Yaml::map().set("inputs", first_input())));
  add_common(wf, plan);
  Yaml jobs = Yaml::map();
  jobs.set("test", test_job(plan));
  jobs.set("package", package_job(plan, services));
  std::vector<std::string> needs = {"package"};
  if (!env.requires_roles.empty()) {
    jobs.set("gate", gate_job(plan, env, services));
    needs.push_back("gate");
  }
  jobs.set("deploy", deploy_job(plan, env, needs));
  wf.set("jobs", std::move(jobs));
  return {std::string(kWorkflowsDir) + "villager-production.yml",
          dump(plan, "release tag or manual run -> test, package, gate, deploy to " + env.name, wf)};
}

GeneratedFile rollback_workflow(const Plan& plan) {
  std::vector<std::string> names;
  for (const auto* env : plan.deployable) names.push_back(env->name);
  Yaml inputs = Yaml::map();
  inputs.set("environment", Yaml::map()
                                .set("description", "the environment to roll back")
                                .set("type", Yaml::raw("choice"))
                                .set("required", Yaml::raw("true"))
                                .set("options", Yaml::strings(names)));
  inputs.set("reason", Yaml::map()
                           .set("description", "why (recorded in the audit log and the review document)")
                           .set("type", Yaml::raw("string"))
                           .set("required", Yaml::raw("true")));
  inputs.set("to", Yaml::map()
                       .set("description", "a known-good version to return to (default: the previous one)")
                       .set("type", Yaml::raw("string"))
                       .set("required", Yaml::raw("false"))
                       .set("default", Yaml::str("")));
  Yaml wf = Yaml::map().set("name", "villager rollback");
  wf.set("on", Yaml::map().set("workflow_dispatch", Yaml::map().set("inputs", std::move(inputs))));
  add_common(wf, plan);
  Yaml jobs = Yaml::map();
  for (const auto* env : plan.deployable) jobs.set("rollback-" + env->name, rollback_job(plan, *env));
  wf.set("jobs", std::move(jobs));
  return {std::string(kWorkflowsDir) + "villager-rollback.yml",
          dump(plan, "manual run -> roll an environment back to its previous known-good release", wf)};
}

}  // namespace

Result<std::vector<GeneratedFile>> github_workflows(const config::Config& config,
                                                    const GithubOptions& options) {
  auto plan = make_plan(config, options);
  if (!plan) return plan.error();
  std::vector<GeneratedFile> files;
  files.push_back(dev_workflow(*plan));
  if (plan->production) files.push_back(production_workflow(*plan));
  files.push_back(rollback_workflow(*plan));
  return files;
}

}  // namespace villager::ci
