#pragma once
// Running other programs: run_process waits for a short command and captures its output; spawn_process
// starts a long-lived one (a release, a test server) in its own process group with output to files.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager {

struct RunOptions {
  std::map<std::string, std::string> env_add;  // added to (or overriding) the inherited environment
  bool replace_env = false;                    // env_add is the whole environment (nothing inherited)
  std::string cwd;
  std::string stdin_data;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int term_signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up on PATH) and waits. A timeout kills the process group with SIGKILL.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const RunOptions& opts = {});

struct SpawnOptions {
  std::map<std::string, std::string> env;  // the complete environment when replace_env, else additions
  bool replace_env = false;
  std::string cwd;
  std::string stdout_path;  // appended; /dev/null when empty
  std::string stderr_path;  // appended; /dev/null when empty
  bool new_session = true;  // own session and process group: survives the parent's death
};

Result<pid_t> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& opts);

bool process_alive(pid_t pid);
// The process's start time in clock ticks since boot (/proc/PID/stat field 22): with the pid it names a
// process uniquely, so a recycled pid is never mistaken for ours.
std::optional<unsigned long long> process_start_time(pid_t pid);
// Reaps `pid` if it is our child and has exited; returns true when it is gone.
bool reap_if_exited(pid_t pid, int* status = nullptr);

}  // namespace villager
