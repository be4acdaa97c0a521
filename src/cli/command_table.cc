#include "cli/commands.h"

namespace villager::cli {

// Ordered as a release flows: set up, build, gate, ship, watch, report.
const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      kHelpCommand,
      kInitCommand,
      kConfigCommand,
      kDeployCommand,
      kRollbackCommand,
      kStatusCommand,
      kHistoryCommand,
      kAgentCommand,
      kAuditCommand,
      kScanCommand,
      kSecretsCommand,
      kRunbookCommand,
  };
  return table;
}

}  // namespace villager::cli
