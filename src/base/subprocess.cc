#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace villager {

namespace {

std::vector<std::string> build_env(const std::map<std::string, std::string>& vars, bool replace) {
  std::map<std::string, std::string> merged;
  if (!replace) {
    for (char** e = environ; *e; ++e) {
      std::string kv(*e);
      auto eq = kv.find('=');
      if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  for (const auto& [k, v] : vars) merged[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void set_nonblock(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const RunOptions& opts) {
  if (argv.empty()) return InvalidArgument("empty command");
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
    return Internal(std::string("pipe: ") + std::strerror(errno));
  auto args = argv;
  auto argp = c_strings(args);
  auto envs = build_env(opts.env_add, opts.replace_env);
  auto envp = c_strings(envs);
  pid_t pid = ::fork();
  if (pid < 0) return Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) _exit(126);
    ::execvpe(argp[0], argp.data(), envp.data());
    dprintf(2, "cannot run %s: %s\n", argp[0], std::strerror(errno));
    _exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  set_nonblock(in_pipe[1]);
  set_nonblock(out_pipe[0]);
  set_nonblock(err_pipe[0]);

  ProcessResult res;
  size_t in_off = 0;
  int in_fd = in_pipe[1];
  if (opts.stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    int r = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = ::write(in_fd, opts.stdin_data.data() + in_off, opts.stdin_data.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) in_off = opts.stdin_data.size();
        if (in_off >= opts.stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
      } else {
        int& fd = fds[i].fd == out_fd ? out_fd : err_fd;
        std::string& sink = fds[i].fd == out_fd ? res.out : res.err;
        ssize_t m = ::read(fd, buf, sizeof buf);
        if (m > 0) {
          sink.append(buf, static_cast<size_t>(m));
        } else if (m == 0 || (errno != EAGAIN && errno != EINTR)) {
          ::close(fd);
          fd = -1;
        }
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.term_signal = WTERMSIG(status);
  return res;
}

Result<pid_t> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  if (argv.empty()) return InvalidArgument("empty command");
  auto args = argv;
  auto argp = c_strings(args);
  auto envs = build_env(opts.env, opts.replace_env);
  auto envp = c_strings(envs);
  // A pipe reports exec failure to the parent (CLOEXEC closes it on success).
  int errp[2];
  if (::pipe2(errp, O_CLOEXEC)) return Internal(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) return Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(errp[0]);
    if (opts.new_session) ::setsid();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    auto open_out = [&](const std::string& p) {
      return p.empty() ? devnull : ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    };
    int o = open_out(opts.stdout_path), e = open_out(opts.stderr_path);
    ::dup2(o < 0 ? devnull : o, 1);
    ::dup2(e < 0 ? devnull : e, 2);
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != errp[1]) ::close(fd);
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) {
      int err = errno;
      (void)!::write(errp[1], &err, sizeof err);
      _exit(126);
    }
    ::execvpe(argp[0], argp.data(), envp.data());
    int err = errno;
    (void)!::write(errp[1], &err, sizeof err);
    _exit(127);
  }
  ::close(errp[1]);
  int child_errno = 0;
  ssize_t n;
  while ((n = ::read(errp[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  ::close(errp[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    return Internal("starting " + argv[0] + ": " + std::strerror(child_errno));
  }
  return pid;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0) return errno == EPERM;
  // A zombie still answers kill(0); treat it as dead.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto rp = line.rfind(')');
  return !(rp != std::string::npos && rp + 2 < line.size() && line[rp + 2] == 'Z');
}

std::optional<unsigned long long> process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  auto rp = line.rfind(')');
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(rp + 2));
  std::string field;
  // Fields after the command name start at field 3 (state); start time is field 22.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  try {
    return std::stoull(field);
  } catch (...) {
    return std::nullopt;
  }
}

bool reap_if_exited(pid_t pid, int* status) {
  int st = 0;
  pid_t r = ::waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    if (status) *status = st;
    return true;
  }
  if (r < 0 && errno == ECHILD) return !process_alive(pid);
  return false;
}

}  // namespace villager
