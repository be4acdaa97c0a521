#include "targets/ssh.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"

namespace villager::targets {

namespace fs = std::filesystem;

namespace {

// Control sockets live in a short private folder: a unix socket path must fit in 108 bytes, which a
// project's state folder may not.
fs::path control_dir() {
  fs::path dir = fs::temp_directory_path() / ("villager-ssh-" + std::to_string(getuid()));
  (void)ensure_dir(dir, fs::perms(0700));
  return dir;
}

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// The last line ssh wrote that says something, for an error message.
std::string ssh_said(const std::string& err) {
  std::string last;
  for (const auto& line : split(err, '\n')) {
    auto t = std::string(trim(line));
    if (!t.empty()) last = t;
  }
  return last.empty() ? "no output" : last;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  return "'" + replace_all(text, "'", "'\\''") + "'";
}

SshSession::SshSession(SshEndpoint host, SshOptions options)
    : host_(std::move(host)), options_(std::move(options)) {
  static std::atomic<int> next{0};
  fs::path dir = control_dir();
  std::string base = std::to_string(getpid()) + "-" + std::to_string(next++);
  if (options_.persist.count() > 0) {
    // Named by everything that decides who we talk to and how we check it: same name, same trust.
    std::string who = destination() + ":" + std::to_string(host_.port) + "\n" + options_.identity.string() +
                      "\n" + read_file(options_.known_hosts).value_or("");
    base = "p-" + sha256_hex(who).substr(0, 24);
  }
  control_path_ = dir / (base + ".sock");
  master_log_ = dir / (base + ".log");
}

SshSession::~SshSession() {
  close();
}

std::string SshSession::destination() const {
  return host_.user.empty() ? host_.address : host_.user + "@" + host_.address;
}

std::string SshSession::label() const {
  return host_.name + " (" + destination() + ":" + std::to_string(host_.port) + ")";
}

std::vector<std::string> SshSession::ssh_args() const {
  auto secs = std::to_string(std::max<int64_t>(1, (options_.connect_timeout.count() + 999) / 1000));
  std::vector<std::string> a = {"ssh",
                                "-p",
                                std::to_string(host_.port),
                                "-o",
                                "BatchMode=yes",
                                "-o",
                                "StrictHostKeyChecking=yes",
                                "-o",
                                "UserKnownHostsFile=" + options_.known_hosts.string(),
                                "-o",
                                "GlobalKnownHostsFile=/dev/null",
                                "-o",
                                "ConnectTimeout=" + secs,
                                "-o",
                                "ServerAliveInterval=1",
                                "-o",
                                "ServerAliveCountMax=3",
                                "-o",
                                "LogLevel=ERROR",
                                "-o",
                                "ControlPath=" + control_path_.string()};
  if (!options_.identity.empty()) {
    a.insert(a.end(), {"-o", "IdentitiesOnly=yes", "-i", options_.identity.string()});
  }
  return a;
}

Status SshSession::connect() {
  std::lock_guard lock(mu_);
  if (master_pid_ && process_alive(master_pid_)) return Ok();
  if (!fs::exists(options_.known_hosts))
    return FailedPrecondition("no known_hosts file " + options_.known_hosts.string() + " for " + label() +
                              ": run `villager hosts trust ENV` first");
  if (options_.persist.count() > 0) return connect_persistent();
  std::error_code ec;
  fs::remove(control_path_, ec);
  fs::remove(master_log_, ec);
  auto args = ssh_args();
  args.insert(args.begin() + 1, {"-M", "-N", "-o", "ControlMaster=yes", "-o", "ExitOnForwardFailure=yes"});
  args.push_back(destination());
  SpawnOptions so;
  so.stderr_path = master_log_.string();
  auto pid = spawn_process(args, so);
  if (!pid) return pid.error().context("starting ssh to " + label());
  master_pid_ = *pid;
  auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (reap_if_exited(master_pid_, &status) || !process_alive(master_pid_)) {
      master_pid_ = 0;
      return Unavailable(label() + " is unreachable: " + ssh_said(read_file(master_log_).value_or("")));
    }
    if (fs::exists(control_path_)) {
      auto check = ssh_args();
      check.insert(check.end(), {"-O", "check", destination()});
      RunOptions ro;
      ro.timeout = std::chrono::seconds(5);
      auto r = run_process(check, ro);
      if (r && r->exit_code == 0) return Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-master_pid_, SIGKILL);
  kill(master_pid_, SIGKILL);
  (void)reap_if_exited(master_pid_);
  master_pid_ = 0;
  return Unavailable(label() + " is unreachable: no answer within " +
                     format_duration(options_.connect_timeout) + " (" +
                     ssh_said(read_file(master_log_).value_or("")) + ")");
}

std::optional<pid_t> SshSession::running_master() {
  if (!fs::exists(control_path_)) return std::nullopt;
  auto check = ssh_args();
  check.insert(check.end(), {"-O", "check", destination()});
  RunOptions ro;
  ro.timeout = std::chrono::seconds(5);
  auto r = run_process(check, ro);
  if (!r || r->exit_code != 0) return std::nullopt;
  // "Master running (pid=1234)"
  auto at = r->err.find("pid=");
  if (at == std::string::npos) return std::nullopt;
  pid_t pid = static_cast<pid_t>(std::atol(r->err.c_str() + at + 4));
  if (!process_alive(pid)) return std::nullopt;
  return pid;
}

Status SshSession::connect_persistent() {
  // One master per host for every villager command of this user: the lock keeps two commands that
  // connect at once from both logging in.
  std::string lock_path = control_path_.string() + ".lock";
  int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("opening " + lock_path + ": " + std::strerror(errno));
  (void)::flock(fd, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{fd};
  if (auto pid = running_master()) {
    master_pid_ = *pid;
    reused_ = true;
    return Ok();
  }
  std::error_code ec;
  fs::remove(control_path_, ec);
  fs::remove(master_log_, ec);
  auto args = ssh_args();
  args.insert(args.begin() + 1, {"-M", "-N", "-o", "ControlMaster=yes", "-o",
                                 "ControlPersist=" + std::to_string(options_.persist.count()), "-o",
                                 "ExitOnForwardFailure=yes"});
  args.push_back(destination());
  // With ControlPersist the ssh we start exits once it is connected, leaving the master behind it.
  SpawnOptions so;
  so.stderr_path = master_log_.string();
  auto started = spawn_process(args, so);
  if (!started) return started.error().context("starting ssh to " + label());
  auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout + std::chrono::seconds(2);
  int status = 0;
  while (!reap_if_exited(*started, &status)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-*started, SIGKILL);
      kill(*started, SIGKILL);
      (void)reap_if_exited(*started);
      return Unavailable(label() + " is unreachable: no answer within " +
                         format_duration(options_.connect_timeout) + " (" +
                         ssh_said(read_file(master_log_).value_or("")) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto pid = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? running_master() : std::nullopt;
  if (!pid) return Unavailable(label() + " is unreachable: " + ssh_said(read_file(master_log_).value_or("")));
  master_pid_ = *pid;
  return Ok();
}

bool SshSession::alive() {
  std::lock_guard lock(mu_);
  if (!master_pid_) return false;
  if (reap_if_exited(master_pid_) || !process_alive(master_pid_)) {
    master_pid_ = 0;
    return false;
  }
  return true;
}

void SshSession::close() {
  std::lock_guard lock(mu_);
  if (!master_pid_) return;
  if (options_.persist.count() > 0) {
    // The master stays for the next command; the local ports this session forwarded do not.
    for (const auto& spec : forwards_) {
      auto args = ssh_args();
      args.insert(args.end(), {"-O", "cancel", "-L", spec, destination()});
      RunOptions ro;
      ro.timeout = std::chrono::seconds(3);
      (void)run_process(args, ro);
    }
    forwards_.clear();
    master_pid_ = 0;
    return;
  }
  auto args = ssh_args();
  args.insert(args.end(), {"-O", "exit", destination()});
  RunOptions ro;
  ro.timeout = std::chrono::seconds(3);
  (void)run_process(args, ro);
  for (int i = 0; i < 50 && !reap_if_exited(master_pid_) && process_alive(master_pid_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (process_alive(master_pid_)) {
    kill(master_pid_, SIGKILL);
    (void)reap_if_exited(master_pid_);
  }
  master_pid_ = 0;
  std::error_code ec;
  fs::remove(control_path_, ec);
  fs::remove(master_log_, ec);
}

Result<ProcessResult> SshSession::run(const std::string& command, const std::string& stdin_data,
                                      std::chrono::milliseconds timeout) {
  if (!alive()) return Unavailable(label() + " is unreachable: its ssh connection is gone");
  auto args = ssh_args();
  // Only through the master: a dropped host must fail fast, not open a fresh connection.
  args.insert(args.end(), {"-o", "ControlMaster=no", destination(), "--", command});
  RunOptions ro;
  ro.stdin_data = stdin_data;
  ro.timeout = timeout;
  auto r = run_process(args, ro);
  if (!r) return r.error().context(label());
  if (r->timed_out)
    return Timeout(label() + ": `" + command + "` took longer than " + format_duration(timeout));
  if (r->exit_code == 255) return Unavailable(label() + " is unreachable: " + ssh_said(r->err));
  return r;
}

Result<std::string> SshSession::run_ok(const std::string& command, const std::string& stdin_data,
                                       std::chrono::milliseconds timeout) {
  auto r = run(command, stdin_data, timeout);
  if (!r) return r.error();
  if (r->exit_code != 0)
    return Internal(label() + ": `" + command + "` exited " + std::to_string(r->exit_code) + ": " +
                    ssh_said(r->err));
  return r->out;
}

Status SshSession::write_file(const std::string& remote_path, const std::string& data, int mode) {
  char m[8];
  snprintf(m, sizeof m, "%03o", mode & 0777);
  std::string q = shell_quote(remote_path), part = shell_quote(remote_path + ".part");
  std::string cmd = "set -e; umask 077; mkdir -p \"$(dirname " + q + ")\"; cat > " + part + "; chmod " + m +
                    " " + part + "; mv -f " + part + " " + q;
  auto r = run_ok(cmd, data, std::chrono::minutes(10));
  if (!r) return r.error();
  return Ok();
}

Status SshSession::upload(const fs::path& local, const std::string& remote_path, int mode) {
  auto data = read_file(local);
  if (!data) return data.error();
  auto want = sha256_file_hex(local);
  if (!want) return want.error();
  VILLAGER_RETURN_IF_ERROR(write_file(remote_path, *data, mode));
  auto got = run_ok("sha256sum " + shell_quote(remote_path));
  if (!got) return got.error();
  if (got->substr(0, 64) != *want)
    return Internal(label() + ": " + remote_path + " arrived with sha256 " + got->substr(0, 64) + ", not " +
                    *want);
  return Ok();
}

Result<int> SshSession::forward(int remote_port) {
  if (!alive()) return Unavailable(label() + " is unreachable: its ssh connection is gone");
  std::string last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = free_loopback_port();
    if (!port) continue;
    auto args = ssh_args();
    std::string spec = "127.0.0.1:" + std::to_string(port) + ":127.0.0.1:" + std::to_string(remote_port);
    args.insert(args.end(), {"-O", "forward", "-L", spec, destination()});
    RunOptions ro;
    ro.timeout = std::chrono::seconds(5);
    auto r = run_process(args, ro);
    if (r && r->exit_code == 0) {
      std::lock_guard lock(mu_);
      forwards_.push_back(spec);
      return port;
    }
    last = r ? ssh_said(r->err) : r.error().message;
  }
  return Unavailable(label() + ": could not forward a local port to its port " + std::to_string(remote_port) +
                     ": " + last);
}

Result<ScannedKeys> scan_host_keys(const SshEndpoint& host, std::chrono::milliseconds timeout) {
  auto secs = std::to_string(std::max<int64_t>(1, (timeout.count() + 999) / 1000));
  RunOptions ro;
  ro.timeout = timeout + std::chrono::seconds(2);
  auto r = run_process({"ssh-keyscan", "-T", secs, "-p", std::to_string(host.port), host.address}, ro);
  if (!r) return r.error();
  ScannedKeys out;
  for (const auto& line : split(r->out, '\n')) {
    auto t = std::string(trim(line));
    if (!t.empty() && t[0] != '#') out.lines.push_back(t);
  }
  if (out.lines.empty())
    return Unavailable(host.name + " (" + host.address + ":" + std::to_string(host.port) +
                       ") offered no host key: " + ssh_said(r->err));
  RunOptions fo;
  fo.stdin_data = join(out.lines, "\n") + "\n";
  auto fp = run_process({"ssh-keygen", "-l", "-f", "-"}, fo);
  if (fp && fp->exit_code == 0)
    for (const auto& line : split(fp->out, '\n'))
      if (!trim(line).empty()) out.fingerprints.push_back(std::string(trim(line)));
  return out;
}

}  // namespace villager::targets
