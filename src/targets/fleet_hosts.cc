#include "targets/fleet_hosts.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "targets/control_client.h"
#include "targets/ssh.h"
#include "targets/ssh_target.h"
#include "targets/tokens.h"

namespace villager::targets {

namespace fs = std::filesystem;

namespace {

std::string address_of(const config::SshHost& h) {
  return h.address + ":" + std::to_string(h.port);
}

// known_hosts names a host by its address, bracketed with the port when that is not 22.
std::string known_hosts_name(const config::SshHost& h) {
  return h.port == 22 ? h.address : "[" + h.address + "]:" + std::to_string(h.port);
}

// "NAME TYPE KEY [comment]" -> {NAME, "TYPE KEY"}.
std::pair<std::string, std::string> split_known_line(const std::string& line) {
  auto f = split(line, ' ');
  std::vector<std::string> words;
  for (auto& w : f)
    if (!w.empty()) words.push_back(w);
  if (words.size() < 3) return {"", ""};
  return {words[0], words[1] + " " + words[2]};
}

}  // namespace

Result<std::vector<HostTrust>> trust_hosts(const config::Config& config, const config::EnvironmentConfig& env,
                                           const std::vector<std::string>& replace) {
  const fs::path file = known_hosts_path(config, env);
  std::vector<std::string> old_lines;
  if (fs::exists(file)) {
    auto text = read_file(file);
    if (!text) return text.error();
    for (auto& l : split(*text, '\n'))
      if (!trim(l).empty()) old_lines.push_back(std::string(trim(l)));
  }
  std::map<std::string, std::set<std::string>> trusted;  // known_hosts name -> "TYPE KEY"
  for (auto& l : old_lines) {
    auto [name, key] = split_known_line(l);
    if (!name.empty()) trusted[name].insert(key);
  }

  const auto& hosts = env.ssh.hosts;
  std::vector<HostTrust> out(hosts.size());
  std::vector<std::vector<std::string>> offered(hosts.size());
  in_parallel(hosts.size(), [&](size_t i) {
    HostTrust& t = out[i];
    t.host = hosts[i].name;
    t.address = address_of(hosts[i]);
    auto scanned = scan_host_keys(ssh_endpoint(hosts[i]), env.ssh.connect_timeout);
    if (!scanned) {
      t.state = "unreachable";
      t.error = scanned.error().message;
      return;
    }
    t.fingerprints = scanned->fingerprints;
    offered[i] = scanned->lines;
    const std::string name = known_hosts_name(hosts[i]);
    auto it = trusted.find(name);
    if (it == trusted.end()) {
      t.state = "added";
      return;
    }
    std::set<std::string> now;
    for (auto& l : scanned->lines) now.insert(split_known_line(l).second);
    bool kept = true;  // every key trusted before is still offered
    for (auto& k : it->second) kept = kept && now.count(k);
    if (kept) {
      t.state = "unchanged";
    } else if (std::find(replace.begin(), replace.end(), hosts[i].name) != replace.end()) {
      t.state = "replaced";
    } else {
      t.state = "refused";
      t.error =
          "its host key CHANGED since it was trusted (" + file.string() +
          "): a reinstalled host, or someone in the middle. Compare the fingerprint with the host's own "
          "(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there), then `villager hosts trust " +
          env.name + " --replace " + hosts[i].name + "`";
    }
  });

  bool changed = false;
  std::set<std::string> rewritten;  // known_hosts names whose lines are replaced by what was offered
  for (size_t i = 0; i < hosts.size(); ++i) {
    const std::string& s = out[i].state;
    if (s == "added" || s == "replaced" || s == "unchanged") rewritten.insert(known_hosts_name(hosts[i]));
    changed = changed || s == "added" || s == "replaced";
  }
  if (!changed) return out;
  std::string text;
  for (auto& l : old_lines)
    if (!rewritten.count(split_known_line(l).first)) text += l + "\n";
  for (size_t i = 0; i < hosts.size(); ++i)
    if (rewritten.count(known_hosts_name(hosts[i])))
      for (auto& l : offered[i]) text += l + "\n";
  VILLAGER_RETURN_IF_ERROR(ensure_dir(file.parent_path(), fs::perms(0700)));
  VILLAGER_RETURN_IF_ERROR(write_file_atomic(file, text, fs::perms(0600)));
  return out;
}

namespace {

// The remote file's sha256, or "" when it is not there.
std::string remote_sha256(SshSession& ssh, const std::string& path) {
  auto r = ssh.run("sha256sum " + shell_quote(path) + " 2>/dev/null");
  if (!r || r->exit_code != 0 || r->out.size() < 64) return "";
  return r->out.substr(0, 64);
}

// Copies `local` to `remote` unless the host has those bytes already.
Result<std::string> sync_file(SshSession& ssh, const fs::path& local, const std::string& remote, int mode) {
  auto want = sha256_file_hex(local);
  if (!want) return want.error();
  if (remote_sha256(ssh, remote) == *want) return std::string("unchanged");
  VILLAGER_RETURN_IF_ERROR(ssh.upload(local, remote, mode));
  return std::string("uploaded");
}

// The pid of the host's running fleet agent, or 0.
int running_agent(SshSession& ssh, const std::string& root) {
  auto r = ssh.run("pid=$(cat " + shell_quote(root + "/agent.pid") +
                   " 2>/dev/null) && kill -0 \"$pid\" 2>/dev/null && tr '\\0' ' ' < /proc/$pid/cmdline | "
                   "grep -q -- '--fleet-host' && echo \"$pid\"");
  if (!r || r->exit_code != 0) return 0;
  return std::atoi(std::string(trim(r->out)).c_str());
}

Status stop_agent(SshSession& ssh, int pid) {
  std::string p = std::to_string(pid);
  auto r = ssh.run("kill -TERM " + p + " 2>/dev/null; for i in $(seq 200); do kill -0 " + p +
                       " 2>/dev/null || exit 0; sleep 0.05; done; exit 1",
                   "", std::chrono::seconds(20));
  if (!r) return r.error();
  if (r->exit_code != 0)
    return Unavailable(ssh.label() + ": the old agent (pid " + p + ") did not exit in 10 s");
  return Ok();
}

Result<int> start_agent(SshSession& ssh, const config::EnvironmentConfig& env, const std::string& root) {
  const std::string q = shell_quote(root), state = root + "/state";
  const std::string control = "127.0.0.1:" + std::to_string(env.ssh.agent_port);
  // setsid: the agent leads its own session, so it outlives this SSH channel and the master connection.
  // Only the agent goes to the background (not a subshell still holding this channel's stdout).
  std::string cmd = "cd " + q + " || exit 1; setsid nohup " + shell_quote(root + "/bin/villager") +
                    " agent -c " + shell_quote(root + "/villager.toml") + " --fleet-host " +
                    shell_quote(env.name) + " --state-dir " + shell_quote(state) + " --control " + control +
                    " >> agent.log 2>&1 < /dev/null & echo $! > agent.pid; cat agent.pid";
  auto started = ssh.run_ok(cmd, "", std::chrono::seconds(15));
  if (!started) return started.error();
  int pid = std::atoi(std::string(trim(*started)).c_str());
  if (pid <= 0) return Internal(ssh.label() + ": no pid for the started agent");
  // Ready = its control token written and its control API answering with it.
  const std::string token_file = token_path(state, kAgentTokenName).string();
  auto wait =
      ssh.run("for i in $(seq 200); do kill -0 " + std::to_string(pid) + " 2>/dev/null || exit 3; test -s " +
                  shell_quote(token_file) + " && exit 0; sleep 0.05; done; exit 4",
              "", std::chrono::seconds(20));
  if (!wait) return wait.error();
  auto log_tail = [&] {
    auto t = ssh.run("tail -n 5 " + shell_quote(root + "/agent.log"));
    return t ? std::string(trim(t->out)) : std::string();
  };
  if (wait->exit_code != 0)
    return Unavailable(ssh.label() + ": the agent " +
                       (wait->exit_code == 3 ? "exited" : "wrote no token in 10 s") + " (" + root +
                       "/agent.log: " + log_tail() + ")");
  auto token = ssh.run_ok("cat " + shell_quote(token_file));
  if (!token) return token.error();
  auto port = ssh.forward(env.ssh.agent_port);
  if (!port) return port.error();
  ControlClient client({"127.0.0.1", static_cast<uint16_t>(*port)}, std::string(trim(*token)));
  std::string last;
  for (int i = 0; i < 100; ++i) {
    auto h = client.call_ok("GET", "/v1/health", "", std::chrono::milliseconds(1000));
    if (h) return pid;
    last = h.error().message;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Unavailable(ssh.label() + ": the agent does not answer on " + control + ": " + last + " (" +
                     log_tail() + ")");
}

Status setup_one(const config::Config& config, const config::EnvironmentConfig& env,
                 const config::SshHost& host, const fs::path& self, HostSetup& out) {
  SshSession ssh(ssh_endpoint(host), ssh_options(config, env));
  VILLAGER_RETURN_IF_ERROR(ssh.connect());
  std::string root = host_root(env, host);
  auto abs = ssh.run_ok("mkdir -p " + shell_quote(root) + " && cd " + shell_quote(root) +
                        " && mkdir -p bin state && chmod 700 state && pwd");
  if (!abs) return abs.error();
  out.root = std::string(trim(*abs));
  auto binary = sync_file(ssh, self, out.root + "/bin/villager", 0755);
  if (!binary) return binary.error();
  out.binary = *binary;
  auto cfg = sync_file(ssh, config.file, out.root + "/villager.toml", 0644);
  if (!cfg) return cfg.error();
  out.config = *cfg;
  int pid = running_agent(ssh, out.root);
  bool changed = out.binary == "uploaded" || out.config == "uploaded";
  if (pid && !changed) {
    out.agent = "running";
    out.pid = pid;
    return Ok();
  }
  if (pid) VILLAGER_RETURN_IF_ERROR(stop_agent(ssh, pid));
  auto started = start_agent(ssh, env, out.root);
  if (!started) return started.error();
  out.agent = pid ? "restarted" : "started";
  out.pid = *started;
  return Ok();
}

}  // namespace

fs::path binary_to_ship(const fs::path& self, const fs::path& cache_dir) {
  std::error_code ec;
  auto size = fs::file_size(self, ec);
  auto mtime = fs::last_write_time(self, ec);
  if (ec) return self;
  std::string key =
      self.string() + "|" + std::to_string(size) + "|" + std::to_string(mtime.time_since_epoch().count());
  fs::path out = cache_dir / ("villager-" + sha256_hex(key).substr(0, 16));
  if (fs::exists(out, ec)) return out;
  if (!ensure_dir(cache_dir, fs::perms(0700)).ok()) return self;
  fs::path part = out.string() + ".part." + std::to_string(getpid());
  RunOptions ro;
  ro.timeout = std::chrono::minutes(2);
  auto r = run_process({"objcopy", "--strip-debug", self.string(), part.string()}, ro);
  if (!r || r->exit_code != 0) {  // no binutils here: the binary travels as it is
    fs::remove(part, ec);
    return self;
  }
  fs::rename(part, out, ec);
  if (ec) {
    fs::remove(part, ec);
    return self;
  }
  // Older stripped copies of earlier builds are not needed again.
  for (const auto& e : fs::directory_iterator(cache_dir, ec))
    if (e.path() != out && e.path().filename().string().starts_with("villager-")) fs::remove(e.path(), ec);
  return out;
}

std::vector<HostSetup> setup_hosts(const config::Config& config, const config::EnvironmentConfig& env,
                                   const fs::path& running) {
  const auto& hosts = env.ssh.hosts;
  const fs::path self = binary_to_ship(running, config.state_dir() / "ssh" / "bin");
  std::vector<HostSetup> out(hosts.size());
  in_parallel(hosts.size(), [&](size_t i) {
    out[i].host = hosts[i].name;
    out[i].address = address_of(hosts[i]);
    if (auto s = setup_one(config, env, hosts[i], self, out[i]); !s.ok()) out[i].error = s.error().message;
  });
  return out;
}

}  // namespace villager::targets
