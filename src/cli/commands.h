#pragma once
// One declaration per command; each is defined in its own file (cmd_<name>.cc).

#include "cli/command.h"

namespace villager::cli {

extern const Command kHelpCommand;
extern const Command kInitCommand;
extern const Command kConfigCommand;
extern const Command kSmokeCommand;

}  // namespace villager::cli
