#include "cli/project.h"

#include <cstdlib>

namespace villager::cli {

std::string config_path(const Args& args) {
  if (args.has("config")) return args.get("config");
  if (const char* env = std::getenv("VILLAGER_CONFIG"); env && *env) return env;
  return "villager.toml";
}

Result<config::Config> load_project(const Args& args) {
  return config::load_config(config_path(args));
}

}  // namespace villager::cli
