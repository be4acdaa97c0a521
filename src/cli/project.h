#pragma once
// Finding and loading the project's villager.toml for a command: `-c FILE` / `--config FILE`, else
// $VILLAGER_CONFIG, else ./villager.toml. Commands that read the config declare kConfigFlag.

#include "cli/args.h"
#include "config/config.h"

namespace villager::cli {

inline const FlagSpec kConfigFlag{"config", true, 'c'};

std::string config_path(const Args& args);
Result<config::Config> load_project(const Args& args);

}  // namespace villager::cli
