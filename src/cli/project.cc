#include "cli/project.h"

#include <cstdio>
#include <cstdlib>

#include "secrets/secrets.h"

namespace villager::cli {

std::string config_path(const Args& args) {
  if (args.has("config")) return args.get("config");
  if (const char* env = std::getenv("VILLAGER_CONFIG"); env && *env) return env;
  return "villager.toml";
}

Result<config::Config> load_project(const Args& args) {
  auto cfg = config::load_config(config_path(args));
  // Warnings go to stderr only: stdout may be JSON a machine reads.
  if (cfg)
    for (const auto& w : cfg->warnings) std::fprintf(stderr, "villager: warning: %s\n", w.c_str());
  // So redaction covers every line this command prints or logs, register now every secret value (old
  // versions too) that the environments' keys can open; an environment without a usable key is skipped.
  if (cfg)
    for (const auto& env : cfg->environments) secrets::register_for_redaction(cfg->state_dir(), env.name);
  return cfg;
}

}  // namespace villager::cli
