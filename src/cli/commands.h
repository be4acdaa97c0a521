#pragma once
// One declaration per command; each is defined in its own file (cmd_<name>.cc).

#include "cli/command.h"

namespace villager::cli {

extern const Command kHelpCommand;
extern const Command kInitCommand;
extern const Command kConfigCommand;
extern const Command kDeployCommand;
extern const Command kRollbackCommand;
extern const Command kPromoteCommand;
extern const Command kAbortCommand;
extern const Command kStatusCommand;
extern const Command kHistoryCommand;
extern const Command kAgentCommand;
extern const Command kAuditCommand;
extern const Command kDashboardCommand;
extern const Command kScanCommand;
extern const Command kSecretsCommand;
extern const Command kLoadCommand;
extern const Command kPackageCommand;
extern const Command kSmokeCommand;
extern const Command kReportCommand;
extern const Command kIssuesCommand;
extern const Command kKeysCommand;
extern const Command kApproveCommand;
extern const Command kWaiveCommand;
extern const Command kApprovalsCommand;
extern const Command kRunbookCommand;
extern const Command kHostsCommand;
extern const Command kFrontCommand;
extern const Command kCiCommand;

}  // namespace villager::cli
