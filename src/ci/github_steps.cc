#include "ci/github_steps.h"

#include "base/strings.h"

namespace villager::ci {

namespace {

using config::EnvironmentConfig;

// Deploy jobs can wait out canary steps and the watch; the rest of the job gets this much on top.
constexpr int kJobSlackMinutes = 30;
constexpr const char* kOut = "$RUNNER_TEMP/villager";

// A word for the shell, single-quoted: paths from villager.toml are data, never shell.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A step's name, then its id and condition when it has them, then what it does.
Yaml step_head(const std::string& name, const std::string& id, const std::string& condition) {
  Yaml step = Yaml::map().set("name", name);
  if (!id.empty()) step.set("id", id);
  if (!condition.empty()) step.set("if", Yaml::raw(condition));
  return step;
}

Yaml run_step(const std::string& name, const std::string& script, const std::string& id = "",
              const std::string& condition = "") {
  return step_head(name, id, condition).set("run", Yaml::block(script));
}

Yaml uses_step(const std::string& name, const std::string& action, Yaml with,
               const std::string& condition = "") {
  Yaml step = step_head(name, "", condition).set("uses", action);
  if (!with.empty()) step.set("with", std::move(with));
  return step;
}

// Deploy and rollback jobs keep the runner's state folder (the store and the artifacts that serve):
// `clean: false` stops checkout from deleting the untracked state in the workspace.
Yaml checkout_step(bool keep_state) {
  Yaml with = Yaml::map();
  if (keep_state) with.set("clean", Yaml::raw("false"));
  return uses_step("check out", "actions/checkout@v4", std::move(with));
}

void add_common_steps(Yaml& steps, const Plan& plan, bool keep_state) {
  steps.add(checkout_step(keep_state));
  if (!plan.config->ci.setup.empty())
    steps.add(run_step("set up villager", join(plan.config->ci.setup, "\n")));
}

std::string artifacts_path(const Plan& plan) {
  return repo_path(plan, plan.config->project.state_dir) + "/artifacts";
}

Yaml download_artifacts_step(const Plan& plan) {
  return uses_step("download the packaged artifacts", "actions/download-artifact@v4",
                   Yaml::map().set("name", kArtifactsName).set("path", artifacts_path(plan)));
}

Yaml upload_step(const std::string& name, const std::string& artifact, const std::string& path) {
  return uses_step(name, "actions/upload-artifact@v4",
                   Yaml::map().set("name", artifact).set("path", path).set("if-no-files-found", "warn"),
                   "always()");
}

// OIDC: the job asks GitHub for a token and trades it for the role; no AWS key is stored anywhere.
Yaml aws_step(const Plan& plan, const EnvironmentConfig& env) {
  auto it = plan.config->ci.aws_role.find(env.name);
  std::string role =
      it != plan.config->ci.aws_role.end() ? it->second : "${{ secrets." + aws_role_secret(env.name) + " }}";
  return uses_step("AWS credentials (OIDC)", "aws-actions/configure-aws-credentials@v4",
                   Yaml::map().set("role-to-assume", role).set("aws-region", env.lambda.region));
}

Yaml digest_env_map(const std::vector<std::string>& services) {
  Yaml env = Yaml::map();
  for (const auto& s : services)
    env.set(digest_env(s), "${{ needs.package.outputs." + digest_output(s) + " }}");
  return env;
}

Yaml permissions(bool id_token) {
  Yaml p = Yaml::map().set("contents", "read");
  if (id_token) p.set("id-token", "write");
  return p;
}

int deploy_timeout_minutes(const EnvironmentConfig& env) {
  auto ms = env.watch.count() + env.step_interval.count() * static_cast<long long>(env.steps.size());
  return kJobSlackMinutes + static_cast<int>((ms + 59999) / 60000);
}

// Copies the review documents written since `started` and the status update into $RUNNER_TEMP/villager,
// and appends both to the job summary.
Yaml report_step(const Plan& plan, const std::string& env, const std::string& what) {
  std::string reviews = shell_quote(repo_path(plan, plan.config->project.reviews_dir));
  std::string script = std::string("out=\"") + kOut + "\"\n" +
                       "mkdir -p \"$out/reviews\"\n"
                       "if [ -d " +
                       reviews +
                       " ] && [ -e \"$out/started\" ]; then\n"
                       "  find " +
                       reviews +
                       " -name '*.md' -newer \"$out/started\" -exec cp {} \"$out/reviews/\" \\;\n"
                       "fi\n"
                       "villager status " +
                       env +
                       " --markdown > \"$out/status-update.md\"\n"
                       "{\n"
                       "  echo \"## villager " +
                       what + " " + env +
                       "\"\n"
                       "  echo\n"
                       "  cat \"$out/status-update.md\"\n"
                       "  for f in \"$out\"/reviews/*.md; do\n"
                       "    [ -e \"$f\" ] || continue\n"
                       "    echo\n"
                       "    cat \"$f\"\n"
                       "  done\n"
                       "} >> \"$GITHUB_STEP_SUMMARY\"\n";
  return run_step("review documents and status update", script, "", "always()");
}

// The part deploy and rollback jobs share: where they run, the environment's protection rules and
// secrets, one deploy at a time per environment, and AWS credentials for lambda targets.
Yaml environment_job(const Plan& plan, const EnvironmentConfig& env, const std::string& name,
                     const std::vector<std::string>& needs, Yaml& steps) {
  bool lambda = env.target == config::TargetKind::kLambda;
  Yaml job = Yaml::map().set("name", name);
  if (!needs.empty()) job.set("needs", Yaml::strings(needs));
  job.set("runs-on", plan.config->ci.deploy_runs_on);
  job.set("environment", env.name);
  job.set(
      "concurrency",
      Yaml::map().set("group", "villager-deploy-" + env.name).set("cancel-in-progress", Yaml::raw("false")));
  job.set("permissions", permissions(lambda));
  add_common_steps(steps, plan, true);
  if (lambda) steps.add(aws_step(plan, env));
  return job;
}

Yaml secrets_env(const EnvironmentConfig& env) {
  return Yaml::map().set(secrets_key_name(env.name), "${{ secrets." + secrets_key_name(env.name) + " }}");
}

}  // namespace

Yaml test_job(const Plan& plan) {
  Yaml steps = Yaml::list();
  add_common_steps(steps, plan, false);
  steps.add(run_step("check villager.toml", "villager config check"));
  steps.add(run_step("check the workflows match villager.toml",
                     "villager ci check -c " + shell_quote(plan.config_path)));
  if (!plan.config->ci.test.empty()) steps.add(run_step("test", join(plan.config->ci.test, "\n")));
  return Yaml::map()
      .set("name", "test")
      .set("runs-on", plan.config->ci.runs_on)
      .set("steps", std::move(steps));
}

Yaml package_job(const Plan& plan, const std::vector<std::string>& services) {
  Yaml steps = Yaml::list();
  add_common_steps(steps, plan, false);
  if (!plan.config->ci.build.empty()) steps.add(run_step("build", join(plan.config->ci.build, "\n")));
  std::string script = std::string("mkdir -p \"") + kOut + "\"\n" + "villager package --check " +
                       join(services, " ") + " | tee \"" + kOut + "/package.txt\"\n" +
                       "echo '### villager package' >> \"$GITHUB_STEP_SUMMARY\"\n"
                       "while read -r service version digest; do\n"
                       "  echo \"digest-$service=$digest\" >> \"$GITHUB_OUTPUT\"\n"
                       "  echo \"- $service $version \\`$digest\\`\" >> \"$GITHUB_STEP_SUMMARY\"\n"
                       "done < \"" +
                       kOut + "/package.txt\"\n";
  steps.add(run_step("package reproducibly", script, "package"));
  steps.add(uses_step("upload the packaged artifacts", "actions/upload-artifact@v4",
                      Yaml::map()
                          .set("name", kArtifactsName)
                          .set("path", artifacts_path(plan))
                          .set("if-no-files-found", "error")));
  Yaml outputs = Yaml::map();
  for (const auto& s : services)
    outputs.set(digest_output(s), "${{ steps.package.outputs." + digest_output(s) + " }}");
  return Yaml::map()
      .set("name", "package")
      .set("needs", Yaml::strings({"test"}))
      .set("runs-on", plan.config->ci.runs_on)
      .set("outputs", std::move(outputs))
      .set("steps", std::move(steps));
}

Yaml gate_job(const Plan& plan, const EnvironmentConfig& env, const std::vector<std::string>& services) {
  Yaml steps = Yaml::list();
  add_common_steps(steps, plan, false);
  steps.add(download_artifacts_step(plan));
  // Every service is checked, so one run names every missing approval.
  std::string script = "rc=0\n";
  for (const auto& s : services)
    script += "villager approvals \"$" + digest_env(s) + "\" --env " + env.name + " --gate || rc=$?\n";
  script += "exit \"$rc\"\n";
  steps.add(run_step("verify the signed " + join(env.requires_roles, " and ") + " approvals", script));
  return Yaml::map()
      .set("name", "gate: " + join(env.requires_roles, ", "))
      .set("needs", Yaml::strings({"package"}))
      .set("runs-on", plan.config->ci.runs_on)
      .set("env", digest_env_map(services))
      .set("steps", std::move(steps));
}

Yaml deploy_job(const Plan& plan, const EnvironmentConfig& env, const std::vector<std::string>& needs) {
  const std::vector<std::string> services = plan.config->services_of(env);
  Yaml steps = Yaml::list();
  Yaml job = environment_job(plan, env, "deploy to " + env.name, needs, steps);
  job.set("timeout-minutes", Yaml::raw(std::to_string(deploy_timeout_minutes(env))));
  Yaml env_map = secrets_env(env);
  for (const auto& s : services)
    env_map.set(digest_env(s), "${{ needs.package.outputs." + digest_output(s) + " }}");
  env_map.set("VILLAGER_FIRST", "${{ inputs.first }}");
  job.set("env", std::move(env_map));
  steps.add(download_artifacts_step(plan));
  std::string artifacts;
  for (const auto& s : services) artifacts += " --artifact \"$" + digest_env(s) + "\"";
  std::string script = std::string("mkdir -p \"") + kOut + "\"\n" + "touch \"" + kOut + "/started\"\n" +
                       "first=()\n"
                       "if [ \"${VILLAGER_FIRST:-}\" = true ]; then first=(--first); fi\n"
                       "villager deploy " +
                       env.name + artifacts + " --junit \"" + kOut + "/smoke-" + env.name +
                       ".xml\" \"${first[@]}\"\n";
  steps.add(run_step("deploy to " + env.name + " (smoke, canary, watch)", script));
  steps.add(report_step(plan, env.name, "deploy"));
  steps.add(upload_step("upload the smoke report (JUnit)", "smoke-junit-" + env.name,
                        "${{ runner.temp }}/villager/smoke-" + env.name + ".xml"));
  steps.add(upload_step("upload the review documents and status update", "villager-review-" + env.name,
                        "${{ runner.temp }}/villager/"));
  return job.set("steps", std::move(steps));
}

Yaml rollback_job(const Plan& plan, const EnvironmentConfig& env) {
  Yaml steps = Yaml::list();
  Yaml job = environment_job(plan, env, "roll back " + env.name, {}, steps);
  job.set("if", Yaml::raw("inputs.environment == '" + env.name + "'"));  // names are [A-Za-z0-9_-]
  job.set("timeout-minutes", Yaml::raw(std::to_string(kJobSlackMinutes)));
  Yaml env_map = secrets_env(env);
  env_map.set("REASON", "${{ inputs.reason }}");
  env_map.set("TO_VERSION", "${{ inputs.to }}");
  job.set("env", std::move(env_map));
  std::string script = std::string("mkdir -p \"") + kOut + "\"\n" + "touch \"" + kOut + "/started\"\n" +
                       "to=()\n"
                       "if [ -n \"${TO_VERSION:-}\" ]; then to=(--to \"$TO_VERSION\"); fi\n"
                       "villager rollback " +
                       env.name + " --reason \"$REASON\" \"${to[@]}\"\n";
  steps.add(run_step("roll back " + env.name, script));
  steps.add(report_step(plan, env.name, "rollback"));
  steps.add(upload_step("upload the review documents and status update", "villager-review-" + env.name,
                        "${{ runner.temp }}/villager/"));
  return job.set("steps", std::move(steps));
}

}  // namespace villager::ci
