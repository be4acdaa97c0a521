#include "cli/commands.h"

namespace villager::cli {

// Ordered as a release flows: set up, build, gate, ship, watch, report.
const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      kHelpCommand,
      kInitCommand,
      kConfigCommand,
      kScanCommand,
      kPackageCommand,
      kSecretsCommand,
      kDeployCommand,
      kRollbackCommand,
      kStatusCommand,
      kHistoryCommand,
      kSmokeCommand,
      kLoadCommand,
      kAgentCommand,
      kAuditCommand,
      kReportCommand,
      kIssuesCommand,
      kKeysCommand,
      kApproveCommand,
      kApprovalsCommand,
      kRunbookCommand,
  };
  return table;
}

}  // namespace villager::cli
