#pragma once
// The manual rollback of an environment, as `villager rollback` runs it and the dashboard's rollback
// action calls it: the pipeline's rollback with the deploy hooks, the review documents, the release
// channel's events and status update. One code path, so a rollback clicked in the dashboard is recorded,
// reviewed and announced exactly like one typed at a terminal.

#include <functional>

#include "config/config.h"
#include "pipeline/deploy.h"

namespace villager::cli {

// Runs the rollback of `request` (its actor and reason are recorded). `on_result` is called with the
// outcome before pending notifications are waited for, so a caller can show the result at once.
// The Result fails only when the environment or the store cannot be opened; a rollback that ran and
// failed is an outcome with a non-zero exit_code.
Result<pipeline::RollbackOutcome> manual_rollback(
    const config::Config& config, const pipeline::RollbackRequest& request,
    const pipeline::ProgressFn& progress,
    const std::function<void(const pipeline::RollbackOutcome&)>& on_result = {});

}  // namespace villager::cli
