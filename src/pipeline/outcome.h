#pragma once
// How a pipeline command ends: the process exit code every villager command shares (docs/design.md,
// "Exit codes"). Named once here, where deploy and rollback decide it, and used by the CLI's commands,
// so "3" and "4" cannot mean one thing to the pipeline and another to a script reading $?.

namespace villager::pipeline {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,        // failed, and no user traffic reached the change
  kExitUsage = 2,         // bad flags or names (an unknown environment or service): nothing was tried
  kExitGateRejected = 3,  // refused: the gate, a release that cannot be rolled back, nothing to roll back to
  kExitRolledBack = 4,    // traffic moved to the change, a check failed, and it was rolled back
  kExitHeld = 5,          // a canary held at its weight (on_inconclusive = "hold"): promote or roll back
};

}  // namespace villager::pipeline
