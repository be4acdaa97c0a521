#pragma once
// A change an operator makes to one environment outside a deploy (a manual rollback, finishing a held
// canary): the environment's lock, its target, the store and the deploy hooks with the release channel
// attached, set up in that order by one function, so the CLI commands and the dashboard's actions take
// the same path. The caller runs its pipeline call, then report() and finish().

#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file_lock.h"
#include "cli/release_channel.h"
#include "config/config.h"
#include "pipeline/deploy.h"
#include "store/store.h"
#include "targets/target.h"

namespace villager::cli {

struct EnvironmentAction {
  const config::Config* config = nullptr;
  std::string environment;
  FileLock lock;
  std::unique_ptr<targets::Target> target;
  std::unique_ptr<store::Store> store;
  pipeline::DeployHooks hooks;
  std::unique_ptr<ReleaseChannel> channel;

  // The review document of each service's row, then the status update of the change.
  void report(const std::string& trigger, const std::string& headline, const std::string& result,
              const std::vector<pipeline::ServiceResult>& services, const pipeline::ProgressFn& progress);
  // Waits at most the channels' timeout for pending sends (ReleaseChannel::finish).
  void finish() { channel->finish(); }
};

// `holder` is what the lock says while the change runs ("rollback by alice"); `actor` who the release
// channel names. An environment locked by another command is FailedPrecondition naming the holder.
Result<EnvironmentAction> begin_environment_action(const config::Config& config,
                                                   const std::string& environment, const std::string& holder,
                                                   const std::string& actor);

}  // namespace villager::cli
