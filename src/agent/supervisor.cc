#include "agent/supervisor.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "artifact/manifest.h"
#include "artifact/unpack.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/subprocess.h"

namespace villager::agent {

namespace {

// Asks the kernel for a free loopback port. Another process could take it before the release binds;
// the health check then fails and names the port.
Result<int> free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("socket for a free port failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return Internal("no free loopback port");
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string tail_of(const fs::path& file, size_t max_bytes) {
  auto text = read_file(file);
  if (!text) return "";
  std::string t = *text;
  if (t.size() > max_bytes) t = "..." + t.substr(t.size() - max_bytes);
  return std::string(trim(t));
}

// Keeps a release log bounded: copy to .1, then truncate in place (the release writes with O_APPEND, so
// it continues at the new end of the same file).
void rotate_if_large(const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec || size < Supervisor::kMaxLogBytes) return;
  fs::copy_file(file, file.string() + ".1", fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::resize_file(file, 0, ec);
}

}  // namespace

std::string auth_header(const config::ServiceConfig& svc, const std::map<std::string, std::string>& secrets) {
  if (svc.auth_header.empty() || svc.auth_secret.empty()) return "";
  auto it = secrets.find(svc.auth_secret);
  return it == secrets.end() ? "" : svc.auth_header + ": " + it->second;
}

SlotPaths slot_paths(const fs::path& state_dir, const std::string& env, const std::string& service,
                     const std::string& digest) {
  return {state_dir / "releases" / service / digest_hex(digest), state_dir / "data" / env / service,
          state_dir / "logs" / env / service};
}

Supervisor::Supervisor(config::Config config, Hooks hooks)
    : config_(std::move(config)), hooks_(std::move(hooks)) {}

Supervisor::~Supervisor() = default;

const config::ServiceConfig* Supervisor::service(const std::string& name) const {
  return config_.service(name);
}

Result<pid_t> Supervisor::spawn(Slot& slot) {
  const auto* svc = service(slot.status.key.service);
  if (!svc) return NotFound("service '" + slot.status.key.service + "' is not in villager.toml");
  auto paths =
      slot_paths(config_.state_dir(), slot.status.key.env, slot.status.key.service, slot.status.key.digest);
  std::map<std::string, std::string> vars = {{"PORT", std::to_string(slot.status.port)},
                                             {"RELEASE_DIR", paths.release_dir.string()},
                                             {"DATA_DIR", paths.data_dir.string()},
                                             {"LOG_DIR", paths.log_dir.string()},
                                             {"ENV", slot.status.key.env},
                                             {"SERVICE", slot.status.key.service}};
  std::vector<std::string> argv;
  for (std::string word : svc->command) {
    for (const auto& [k, v] : vars) word = replace_all(word, "${" + k + "}", v);
    argv.push_back(word);
  }
  // A relative program path names a file inside the release.
  if (argv[0].find('/') != std::string::npos && argv[0][0] != '/')
    argv[0] = (paths.release_dir / argv[0]).string();
  SpawnOptions opts;
  opts.cwd = paths.release_dir.string();
  for (const auto& [k, v] : svc->env) opts.env[k] = v;
  // Secrets reach the release only through its environment: never argv, never a file.
  for (const auto& [k, v] : slot.secrets) opts.env[k] = v;
  opts.env["PORT"] = std::to_string(slot.status.port);
  opts.env["VILLAGER_RELEASE_VERSION"] = slot.status.version;
  opts.env["VILLAGER_RELEASE_DIGEST"] = slot.status.key.digest;
  opts.env["VILLAGER_ENVIRONMENT"] = slot.status.key.env;
  std::string base = digest_hex(slot.status.key.digest).substr(0, 12);
  opts.stdout_path = (paths.log_dir / (base + ".out.log")).string();
  opts.stderr_path = (paths.log_dir / (base + ".err.log")).string();
  auto pid = spawn_process(argv, opts);
  if (!pid) return pid.error();
  slot.status.start_time = process_start_time(*pid).value_or(0);
  slot.own_child = true;
  slot.status.pid = *pid;
  slot.status.started_at_ms = unix_millis(real_clock().now());
  return *pid;
}

Result<SlotStatus> Supervisor::start(const SlotKey& key, const std::string& version,
                                     const std::map<std::string, std::string>& secrets) {
  const auto* svc = service(key.service);
  if (!svc) return NotFound("service '" + key.service + "' is not in villager.toml");
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(key);
    if (it != slots_.end() && it->second.status.pid > 0 && process_alive(it->second.status.pid))
      return it->second.status;  // already running: starting twice is a no-op
  }
  auto paths = slot_paths(config_.state_dir(), key.env, key.service, key.digest);
  if (!fs::exists(paths.release_dir)) {
    auto digest = Digest::parse(key.digest);
    if (!digest) return digest.error();
    fs::path store_dir = config_.state_dir() / "artifacts";
    VILLAGER_RETURN_IF_ERROR(artifact::verify_artifact(store_dir, *digest));
    VILLAGER_RETURN_IF_ERROR(ensure_dir(paths.release_dir.parent_path()));
    if (auto s =
            artifact::unpack_artifact(artifact::artifact_zip_path(store_dir, *digest), paths.release_dir);
        !s.ok())
      return s.error().context("unpacking " + key.digest);
  }
  VILLAGER_RETURN_IF_ERROR(ensure_dir(paths.data_dir, fs::perms(0700)));
  VILLAGER_RETURN_IF_ERROR(ensure_dir(paths.log_dir, fs::perms(0700)));
  auto port = free_port();
  if (!port) return port.error();

  Slot slot;
  slot.status.key = key;
  slot.status.version = version;
  slot.status.port = *port;
  slot.status.role = SlotRole::kStarting;
  slot.secrets = secrets;
  auto pid = spawn(slot);
  if (!pid) return pid.error().context("starting " + key.to_string());
  {
    std::lock_guard lock(mu_);
    slots_[key] = slot;
  }
  log_event(LogLevel::kInfo, "supervisor", "slot.started",
            {{"slot", key.to_string()}, {"pid", std::to_string(*pid)}, {"port", std::to_string(*port)}});
  if (hooks_.on_change) hooks_.on_change(slot.status);

  // Wait for health: cold starts answer errors for a while, so retry until the deadline.
  auto deadline = std::chrono::steady_clock::now() + svc->health.deadline;
  HealthResult last;
  auto wait = kFirstHealthProbeDelay;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (reap_if_exited(*pid, &status) || !process_alive(*pid)) {
      std::string why = WIFEXITED(status)     ? "exited with status " + std::to_string(WEXITSTATUS(status))
                        : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                              : "exited";
      std::string tail = tail_of(paths.log_dir / (digest_hex(key.digest).substr(0, 12) + ".err.log"), 600);
      {
        std::lock_guard lock(mu_);
        slots_.erase(key);
      }
      slot.status.role = SlotRole::kStopped;
      slot.status.pid = 0;
      if (hooks_.on_change) hooks_.on_change(slot.status);
      return Unavailable("release " + key.to_string() + " " + why + " before it became healthy" +
                         (tail.empty() ? "" : "; its stderr ends with: " + tail));
    }
    last = check_health(*port, svc->health_path, svc->health_body, svc->health.timeout,
                        auth_header(*svc, secrets));
    if (last.ok) {
      std::lock_guard lock(mu_);
      auto& s = slots_[key];
      s.status.healthy = true;
      slot.status = s.status;
      break;
    }
    // Most releases are up within milliseconds: probe quickly at first, then back off to the interval.
    wait = std::min(wait * 2, std::chrono::milliseconds(svc->health.interval));
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        wait,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()) +
            std::chrono::milliseconds(1)));
  }
  if (!last.ok) {
    (void)stop(key);
    return Unavailable("release " + key.to_string() + " did not become healthy within " +
                       format_duration(svc->health.deadline) + ": GET " + svc->health_path + " on port " +
                       std::to_string(*port) + ": " + last.detail);
  }
  if (hooks_.on_change) hooks_.on_change(slot.status);
  return slot.status;
}

Result<SlotStatus> Supervisor::adopt(const SlotStatus& recorded, unsigned long long start_time,
                                     const std::map<std::string, std::string>& secrets) {
  Slot slot;
  slot.status = recorded;
  slot.secrets = secrets;
  slot.own_child = false;
  slot.status.start_time = start_time;
  bool alive = recorded.pid > 0 && process_alive(recorded.pid) &&
               process_start_time(recorded.pid).value_or(0) == start_time;
  if (alive) {
    slot.status.healthy = true;
    log_event(LogLevel::kInfo, "supervisor", "slot.adopted",
              {{"slot", recorded.key.to_string()}, {"pid", std::to_string(recorded.pid)}});
  } else {
    auto paths = slot_paths(config_.state_dir(), recorded.key.env, recorded.key.service, recorded.key.digest);
    if (!fs::exists(paths.release_dir))
      return NotFound("release dir of " + recorded.key.to_string() + " is gone");
    auto pid = spawn(slot);
    if (!pid) return pid.error();
    slot.status.restarts++;
    if (hooks_.on_event) hooks_.on_event("restarted", slot.status, "process was gone when the agent started");
  }
  {
    std::lock_guard lock(mu_);
    slots_[recorded.key] = slot;
  }
  if (hooks_.on_change) hooks_.on_change(slot.status);
  return slot.status;
}

Status Supervisor::set_role(const SlotKey& key, SlotRole role, int weight) {
  SlotStatus copy;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(key);
    if (it == slots_.end()) return NotFound("no running slot " + key.to_string());
    it->second.status.role = role;
    it->second.status.weight = weight;
    copy = it->second.status;
  }
  if (hooks_.on_change) hooks_.on_change(copy);
  return Ok();
}

void Supervisor::terminate(Slot& slot) {
  pid_t pid = slot.status.pid;
  if (pid <= 0) return;
  const auto* svc = service(slot.status.key.service);
  auto drain = svc ? svc->drain_timeout : std::chrono::milliseconds(10000);
  ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + drain;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reap_if_exited(pid) || !process_alive(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  log_event(LogLevel::kWarn, "supervisor", "slot.kill",
            {{"slot", slot.status.key.to_string()}, {"reason", "drain timeout " + format_duration(drain)}});
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 100 && !reap_if_exited(pid) && process_alive(pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

Status Supervisor::stop(const SlotKey& key) {
  Slot slot;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(key);
    if (it == slots_.end()) return Ok();
    slot = it->second;
    // Marked stopped first so supervise() does not restart it while it drains.
    it->second.status.role = SlotRole::kStopped;
  }
  terminate(slot);
  {
    std::lock_guard lock(mu_);
    slots_.erase(key);
  }
  slot.status.role = SlotRole::kStopped;
  slot.status.pid = 0;
  slot.status.weight = 0;
  log_event(LogLevel::kInfo, "supervisor", "slot.stopped", {{"slot", key.to_string()}});
  if (hooks_.on_change) hooks_.on_change(slot.status);
  return Ok();
}

void Supervisor::stop_all() {
  std::vector<SlotKey> keys;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, _] : slots_) keys.push_back(k);
  }
  std::vector<std::thread> threads;
  for (const auto& k : keys) threads.emplace_back([this, k] { (void)stop(k); });
  for (auto& t : threads) t.join();
}

std::vector<SlotStatus> Supervisor::slots() const {
  std::lock_guard lock(mu_);
  std::vector<SlotStatus> out;
  for (const auto& [_, s] : slots_) out.push_back(s.status);
  return out;
}

std::optional<SlotStatus> Supervisor::slot(const SlotKey& key) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return std::nullopt;
  return it->second.status;
}

void Supervisor::supervise() {
  std::vector<std::pair<std::string, SlotStatus>> events;
  std::vector<SlotStatus> changed;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto& [key, slot] : slots_) {
      auto paths = slot_paths(config_.state_dir(), key.env, key.service, key.digest);
      std::string base = digest_hex(key.digest).substr(0, 12);
      rotate_if_large(paths.log_dir / (base + ".out.log"));
      rotate_if_large(paths.log_dir / (base + ".err.log"));
      if (slot.status.role != SlotRole::kServing && slot.status.role != SlotRole::kWarm) continue;
      bool dead;
      if (slot.status.pid <= 0) {
        dead = true;
      } else if (slot.own_child) {
        dead = reap_if_exited(slot.status.pid) || !process_alive(slot.status.pid);
      } else {
        dead = !process_alive(slot.status.pid) ||
               process_start_time(slot.status.pid).value_or(0) != slot.status.start_time;
      }
      if (!dead) {
        // A release that stayed up for a while earns its backoff back.
        if (now - slot.next_restart > std::chrono::minutes(1)) slot.backoff = std::chrono::milliseconds(1000);
        continue;
      }
      if (slot.status.pid > 0) {
        slot.status.pid = 0;
        slot.status.healthy = false;
        events.emplace_back("crashed", slot.status);
        changed.push_back(slot.status);
        // The first restart is immediate; repeated crashes wait longer each time.
        if (slot.next_restart < now) slot.next_restart = now;
      }
      if (now < slot.next_restart) continue;
      auto pid = spawn(slot);
      slot.next_restart = now + slot.backoff;
      slot.backoff = std::min(slot.backoff * 2, kMaxRestartBackoff);
      if (pid) {
        slot.status.restarts++;
        slot.status.healthy = true;
        events.emplace_back("restarted", slot.status);
        changed.push_back(slot.status);
      }
    }
  }
  for (const auto& [kind, st] : events) {
    log_event(kind == "crashed" ? LogLevel::kWarn : LogLevel::kInfo, "supervisor", "slot." + kind,
              {{"slot", st.key.to_string()}, {"restarts", std::to_string(st.restarts)}});
    if (hooks_.on_event) hooks_.on_event(kind, st, "");
  }
  if (hooks_.on_change)
    for (const auto& st : changed) hooks_.on_change(st);
}

}  // namespace villager::agent
