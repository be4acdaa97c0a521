#include "cli/commands.h"

namespace villager::cli {

// Ordered as a release flows: set up, build, gate, ship, watch, report.
const std::vector<Command>& command_table() {
  // One command per line, so branches adding commands merge cleanly.
  // clang-format off
  static const std::vector<Command> table = {
      kHelpCommand,
      kInitCommand,
      kConfigCommand,
      kCiCommand,
      kScanCommand,
      kPackageCommand,
      kSecretsCommand,
      kKeysCommand,
      kApproveCommand,
      kApprovalsCommand,
      kWaiveCommand,
      kDeployCommand,
      kRollbackCommand,
      kPromoteCommand,
      kAbortCommand,
      kStatusCommand,
      kHistoryCommand,
      kSmokeCommand,
      kLoadCommand,
      kHostsCommand,
      kFrontCommand,
      kAgentCommand,
      kRunbookCommand,
      kReportCommand,
      kIssuesCommand,
      kAuditCommand,
      kDashboardCommand,
  };
  // clang-format on
  return table;
}

}  // namespace villager::cli
