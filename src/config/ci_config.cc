#include "config/ci_config.h"

#include "base/strings.h"

namespace villager::config {

namespace {

const std::vector<std::string> kCiKeys = {
    "dev_branch", "release_tags",   "dev_environment", "production_environment",
    "runs_on",    "deploy_runs_on", "setup",           "test",
    "build",      "aws_role"};

// A deployable environment (local or lambda) named by `key`, else an error at the key.
void check_deployable(TomlReader& r, const toml::table& t, const Config& c, const std::string& key,
                      const std::string& name) {
  if (name.empty()) return;
  const EnvironmentConfig* env = c.environment(name);
  if (!env) {
    std::vector<std::string> names;
    for (const auto& e : c.environments) names.push_back(e.name);
    std::string hint = suggest(name, names);
    r.error(r.where(t, key), "[ci] " + key + ": no environment '" + name + "'" +
                                 (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    return;
  }
  if (env->target != TargetKind::kLocal && env->target != TargetKind::kLambda)
    r.error(r.where(t, key), "[ci] " + key + ": environment '" + name + "' has target '" +
                                 std::string(target_kind_name(env->target)) +
                                 "', which villager cannot deploy to (local or lambda)");
}

void check_not_empty(TomlReader& r, const toml::table& t, const std::string& key, const std::string& value) {
  if (t.contains(key) && trim(value).empty()) r.error(r.where(t, key), "[ci] " + key + " must not be empty");
}

void check_aws_roles(TomlReader& r, const toml::table& t, const Config& c) {
  for (const auto& [env_name, role] : c.ci.aws_role) {
    const EnvironmentConfig* env = c.environment(env_name);
    if (!env || env->target != TargetKind::kLambda)
      r.error(r.where(t, "aws_role"), "[ci] aws_role: '" + env_name +
                                          "' is not a lambda environment (only they get AWS credentials)");
    if (trim(role).empty())
      r.error(r.where(t, "aws_role"), "[ci] aws_role: the role of '" + env_name + "' is empty");
  }
}

}  // namespace

void parse_ci(TomlReader& r, const toml::table& root, Config& c) {
  const toml::node* n = root.get("ci");
  if (!n) return;
  const toml::table* t = n->as_table();
  if (!t) {
    r.error_at(*n, "[ci] must be a table");
    return;
  }
  r.check_keys(*t, "[ci]", kCiKeys);
  CiConfig& ci = c.ci;
  r.get(*t, "dev_branch", ci.dev_branch);
  r.get(*t, "release_tags", ci.release_tags);
  r.get(*t, "dev_environment", ci.dev_environment);
  r.get(*t, "production_environment", ci.production_environment);
  r.get(*t, "runs_on", ci.runs_on);
  r.get(*t, "deploy_runs_on", ci.deploy_runs_on);
  r.get(*t, "setup", ci.setup);
  r.get(*t, "test", ci.test);
  r.get(*t, "build", ci.build);
  r.get(*t, "aws_role", ci.aws_role);
  check_not_empty(r, *t, "dev_branch", ci.dev_branch);
  check_not_empty(r, *t, "runs_on", ci.runs_on);
  check_not_empty(r, *t, "deploy_runs_on", ci.deploy_runs_on);
  if (t->contains("release_tags") && ci.release_tags.empty())
    r.error(r.where(*t, "release_tags"),
            "[ci] release_tags must name at least one tag pattern, such as \"v*\"");
  for (const auto& tag : ci.release_tags)
    if (trim(tag).empty()) r.error(r.where(*t, "release_tags"), "[ci] release_tags holds an empty pattern");
  check_deployable(r, *t, c, "dev_environment", ci.dev_environment);
  check_deployable(r, *t, c, "production_environment", ci.production_environment);
  if (!ci.dev_environment.empty() && ci.dev_environment == ci.production_environment)
    r.error(r.where(*t, "production_environment"),
            "[ci] production_environment must differ from dev_environment");
  check_aws_roles(r, *t, c);
}

}  // namespace villager::config
