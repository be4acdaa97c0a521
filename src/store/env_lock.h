#pragma once
// One change to an environment at a time. deploy, rollback and promote each hold <state>/locks/<env>.lock
// (an flock: released when the holder exits, even killed) for as long as they run; a second one is refused
// at once with the holder named, instead of two rollouts switching the same hosts.
//
//   auto lock = store::lock_environment(config.state_dir(), "production", "deploy by alice");
//   if (!lock) return report_error(lock.error(), kExitRefused);   // "production is busy: deploy by bob ..."

#include <filesystem>
#include <string>

#include "base/error.h"
#include "base/file_lock.h"

namespace villager::store {

// `holder` says who is changing the environment ("deploy by alice"); the pid and start time are added.
// FailedPrecondition when another process holds the lock, naming it.
Result<FileLock> lock_environment(const std::filesystem::path& state_dir, const std::string& env,
                                  const std::string& holder);

}  // namespace villager::store
