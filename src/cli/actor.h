#pragma once
// Who runs a command, for the store and the audit log: $VILLAGER_ACTOR, else user@host.

#include <string>

namespace villager::cli {
std::string current_actor();
}  // namespace villager::cli
