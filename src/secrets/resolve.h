#pragma once
// Resolving the secrets a service needs, for injection into its process environment at start, and the
// rollback rule: a release runs with the secret versions it was first started with. A release records
// `versions`; a rollback passes them back as `pinned` and gets the same values again.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/redact.h"
#include "config/config.h"

namespace villager::secrets {

struct ResolvedSecrets {
  std::map<std::string, Secret> values;  // environment variable name -> value
  std::map<std::string, int> versions;   // name -> version used: record this with the release
};

// The names a service needs: its `secrets` list, plus `auth_secret` when set; sorted, no duplicates.
std::vector<std::string> required_secrets(const config::ServiceConfig& service);

// Every secret `service` needs in `env`, at the pinned version when `pinned` names it, else the latest.
// A missing one is an error naming the secret, the service and the environment, with the command that
// fixes it; all missing secrets are reported at once. Opens the store only when something is needed.
Result<ResolvedSecrets> resolve_for_service(const std::filesystem::path& state_dir, const std::string& env,
                                            const config::ServiceConfig& service,
                                            const std::map<std::string, int>* pinned = nullptr);

// For a deploy's preflight: fails, naming every (service, secret) that is missing, before anything starts.
Status check_required_secrets(const std::filesystem::path& state_dir, const std::string& env,
                              const std::vector<config::ServiceConfig>& services);

// Registers for redaction every value of `env` that its key (when available) opens, old versions too.
// Silent about a missing key or file, a damaged file: this only widens redaction. Returns how many.
size_t register_for_redaction(const std::filesystem::path& state_dir, const std::string& env);

}  // namespace villager::secrets
