#include "secrets/resolve.h"

#include <algorithm>

#include "base/fs.h"
#include "base/strings.h"
#include "secrets/secret_store.h"

namespace villager::secrets {

namespace {

std::string fix_command(const std::string& env, const std::string& name) {
  return "villager secrets set " + env + " " + name + " < value-file";
}

}  // namespace

std::vector<std::string> required_secrets(const config::ServiceConfig& service) {
  std::vector<std::string> names = service.secrets;
  if (!service.auth_secret.empty()) names.push_back(service.auth_secret);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Result<ResolvedSecrets> resolve_for_service(const fs::path& state_dir, const std::string& env,
                                            const config::ServiceConfig& service,
                                            const std::map<std::string, int>* pinned) {
  ResolvedSecrets out;
  auto names = required_secrets(service);
  if (names.empty()) return out;
  std::string ctx = "service " + service.name + " in " + env;
  auto store = SecretStore::open(state_dir, env, KeySource::for_env(state_dir, env));
  if (!store) return store.error().context(ctx);
  std::vector<std::string> problems;
  for (const auto& name : names) {
    const int* want = nullptr;
    if (pinned) {
      auto it = pinned->find(name);
      if (it != pinned->end()) want = &it->second;
    }
    auto value = want ? store->get(name, *want) : store->get(name);
    if (!value) {
      if (want)
        problems.push_back("needs secret " + name + " v" + std::to_string(*want) +
                           " (the version this release first started with): " + value.error().message);
      else
        problems.push_back("needs secret " + name + ", which is not set (fix: " + fix_command(env, name) +
                           ")");
      continue;
    }
    out.versions[name] = want ? *want : store->versions().at(name);
    out.values.emplace(name, std::move(*value));
  }
  if (!problems.empty()) return FailedPrecondition(ctx + " " + join(problems, "; "));
  return out;
}

Status check_required_secrets(const fs::path& state_dir, const std::string& env,
                              const std::vector<config::ServiceConfig>& services) {
  std::vector<std::string> problems;
  for (const auto& s : services) {
    auto r = resolve_for_service(state_dir, env, s);
    if (!r) problems.push_back(r.error().message);
  }
  if (!problems.empty()) return FailedPrecondition(join(problems, "\n"));
  return Ok();
}

size_t register_for_redaction(const fs::path& state_dir, const std::string& env) {
  if (!valid_env_name(env)) return 0;
  fs::path file = secrets_file(state_dir, env);
  if (!fs::exists(file)) return 0;
  auto key = load_key(KeySource::for_env(state_dir, env));
  if (!key) return 0;
  auto text = read_file(file);
  if (!text) return 0;
  return open_what_opens(*text, env, *key).size();  // each Secret registered itself
}

}  // namespace villager::secrets
