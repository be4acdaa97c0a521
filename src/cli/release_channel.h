#pragma once
// The release channel for one CLI deploy or rollback: pipeline events go to the [[notify]] channels as
// they happen (never blocking the pipeline), a status update follows the review documents, and at the end
// pending sends get at most the channels' timeout; undelivered events are audited as `notify.failed`.

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "notify/notifier.h"
#include "notify/status_update.h"
#include "pipeline/deploy.h"
#include "store/store.h"

namespace villager::cli {

// What each environment and service serves (the store's known-good marks) and the project's open issues.
// `headline`, `result`, smoke and reviews are left to the caller.
notify::StatusInput current_status(const config::Config& config, store::Store& store);

class ReleaseChannel {
 public:
  ReleaseChannel(const config::Config& config, store::Store& store, std::string actor);
  ~ReleaseChannel();

  // Sets hooks.notify: each event gets its review document's path, then is queued.
  void attach(pipeline::DeployHooks& hooks);
  // Queues the status update for a finished deploy or rollback of `results`.
  void status_update(const std::string& environment, const std::string& headline, const std::string& result,
                     const std::vector<pipeline::ServiceResult>& results,
                     const std::vector<std::string>& reviews);
  // Waits at most the channels' timeout for pending sends, then audits and reports every failure.
  void finish();

 private:
  const config::Config& config_;
  store::Store& store_;
  std::string actor_;
  std::unique_ptr<notify::Notifier> notifier_;  // null when no [[notify]] is configured
};

}  // namespace villager::cli
