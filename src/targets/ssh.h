#pragma once
// One host of a fleet over OpenSSH's own client: a ControlMaster connection opened once, and every command,
// upload and port forward after that multiplexed over it (so a rollout costs one TCP connection and one
// key exchange per host). Host keys are checked strictly against the environment's known_hosts file;
// nothing here ever turns checking off. docs/design.md says why OpenSSH rather than libssh.

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/subprocess.h"

namespace villager::targets {

struct SshEndpoint {
  std::string name;     // "web1", used in messages
  std::string address;  // "10.0.0.11"
  int port = 22;
  std::string user;  // "" = ssh's default
};

struct SshOptions {
  std::filesystem::path identity;     // private key; "" = ssh-agent
  std::filesystem::path known_hosts;  // must exist: `villager hosts trust ENV` writes it
  std::chrono::milliseconds connect_timeout{5000};
  // How long a master outlives the command that opened it (OpenSSH's ControlPersist): the next villager
  // command for the same host reuses it without a login (a rollback right after a deploy). 0 = the
  // master ends with its session. The socket's name covers user, address, port, identity and the
  // known_hosts file's bytes, so a re-trusted host key never rides an old connection.
  std::chrono::seconds persist{0};
};

class SshSession {
 public:
  SshSession(SshEndpoint host, SshOptions options);
  ~SshSession();  // close()
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // Opens the master connection, within connect_timeout, or joins a persisting one (persist > 0).
  // Unavailable names the host and what ssh said (refused, timed out, "host key verification failed").
  Status connect();
  // Whether connect() found a master left by an earlier command (no new login).
  bool reused() const { return reused_; }
  // Whether the master is still up (a dropped host's master exits within ~3 s of keepalives).
  bool alive();
  // Ends the master; a persisting one is left for the next command, only this session's forwards go.
  void close();

  // Runs a shell command line on the host (callers quote; never put a secret in it), feeding `stdin_data`.
  Result<ProcessResult> run(const std::string& command, const std::string& stdin_data = "",
                            std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // run() and fail on a non-zero exit, naming the host and the command's stderr.
  Result<std::string> run_ok(const std::string& command, const std::string& stdin_data = "",
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Writes `data` to `remote_path` atomically (a .part file renamed into place) with `mode`, creating its
  // folder. The bytes travel on stdin, so they never appear in a process listing.
  Status write_file(const std::string& remote_path, const std::string& data, int mode = 0600);
  // Streams a local file to `remote_path` the same way; true sha256 checked on arrival.
  Status upload(const std::filesystem::path& local, const std::string& remote_path, int mode = 0644);
  // Forwards a free 127.0.0.1 port here to 127.0.0.1:remote_port on the host; returns the local port.
  Result<int> forward(int remote_port);

  const SshEndpoint& endpoint() const { return host_; }
  // "web1 (deploy@10.0.0.11:22)"
  std::string label() const;

 private:
  std::vector<std::string> ssh_args() const;  // options shared by every call, ending with the destination
  std::string destination() const;
  Status connect_persistent();
  std::optional<pid_t> running_master();  // `ssh -O check`: the pid of the master behind control_path_

  SshEndpoint host_;
  SshOptions options_;
  std::filesystem::path control_path_;
  std::filesystem::path master_log_;
  pid_t master_pid_ = 0;  // ours, or (persist > 0) whichever command's master we joined
  bool reused_ = false;
  std::vector<std::string> forwards_;  // "-L" specs this session added to a persisting master
  std::mutex mu_;
};

// 'text' quoted for a POSIX shell.
std::string shell_quote(const std::string& text);

// The host keys `host` offers (ssh-keyscan), as known_hosts lines, and their SHA256 fingerprints.
struct ScannedKeys {
  std::vector<std::string> lines;
  std::vector<std::string> fingerprints;  // "ED25519 SHA256:..."
};
Result<ScannedKeys> scan_host_keys(const SshEndpoint& host, std::chrono::milliseconds timeout);

// Runs f(i) for each host index on its own thread and waits for all (a fleet acts on its hosts at once).
template <typename F>
void in_parallel(size_t n, F f) {
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i) threads.emplace_back([&f, i] { f(i); });
  for (auto& t : threads) t.join();
}

}  // namespace villager::targets
