#include "store/env_lock.h"

#include <unistd.h>

#include "base/clock.h"
#include "base/fs.h"

namespace villager::store {

namespace fs = std::filesystem;

Result<FileLock> lock_environment(const fs::path& state_dir, const std::string& env,
                                  const std::string& holder) {
  fs::path dir = state_dir / "locks";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("creating " + dir.string() + ": " + ec.message());
  fs::path holder_file = dir / (env + ".holder");
  auto lock = FileLock::try_acquire(dir / (env + ".lock"));
  if (!lock) {
    if (lock.error().code != Code::kConflict) return lock.error();
    std::string who = read_file(holder_file).value_or("another villager process");
    while (!who.empty() && who.back() == '\n') who.pop_back();
    return FailedPrecondition(env + " is busy: " + who +
                              " is changing it; wait for it to finish (one deploy, rollback or promote at a "
                              "time per environment)");
  }
  std::string line = holder + " (pid " + std::to_string(::getpid()) + ", since " +
                     format_rfc3339(real_clock().now()) + ")\n";
  (void)write_file_atomic(holder_file, line);
  return lock;
}

}  // namespace villager::store
