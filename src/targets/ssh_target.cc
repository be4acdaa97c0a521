#include "targets/ssh_target.h"

#include <set>
#include <thread>

#include "artifact/manifest.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "secrets/key.h"
#include "secrets/secret_store.h"
#include "targets/local_target.h"
#include "targets/tokens.h"

namespace villager::targets {

namespace fs = std::filesystem;

namespace {

// One host: its SSH connection, its agent's target once connected, or why it is not.
struct HostLink {
  config::SshHost cfg;
  std::unique_ptr<SshSession> ssh;
  std::unique_ptr<Target> agent;
  std::string root;  // absolute, on the host
  std::optional<Error> error;
  std::mutex mu;
  std::set<std::string> has_artifact;  // digests known to be on the host
  bool secrets_sent = false;
  std::mutex forward_mu;
  std::map<int, int> forwards;  // slot port on the host -> local port forwarded to it
};

class SshFleetTarget : public Target, public Fleet {
 public:
  SshFleetTarget(const config::Config& config, const config::EnvironmentConfig& env)
      : config_(config), env_(env) {
    for (const auto& h : env.ssh.hosts) {
      auto link = std::make_unique<HostLink>();
      link->cfg = h;
      link->ssh = std::make_unique<SshSession>(ssh_endpoint(h), ssh_options(config, env));
      hosts_.push_back(std::move(link));
    }
    in_parallel(hosts_.size(), [this](size_t i) { connect(*hosts_[i]); });
  }

  std::string kind() const override { return "ssh"; }
  Fleet* fleet() override { return this; }

  // Fleet
  const config::SshConfig& settings() const override { return env_.ssh; }
  size_t size() const override { return hosts_.size(); }
  const config::SshHost& host(size_t i) const override { return hosts_[i]->cfg; }
  Result<Target*> host_target(size_t i) override {
    HostLink& h = *hosts_[i];
    if (h.error) return *h.error;
    if (!h.ssh->alive()) return Unavailable(h.ssh->label() + " is unreachable: its ssh connection dropped");
    return h.agent.get();
  }

  // Target: every host at once.
  Result<SlotInfo> start_candidate(const std::string& service, const std::string& digest,
                                   const std::string& version) override {
    std::vector<std::optional<SlotInfo>> slots(hosts_.size());
    auto s = on_every_host([&](size_t i, Target& t) -> Status {
      auto slot = t.start_candidate(service, digest, version);
      if (!slot) return slot.error();
      slot->host = hosts_[i]->cfg.name;
      slots[i] = *slot;
      return Ok();
    });
    if (!s.ok()) return s.error();
    return *slots.front();
  }
  Status set_weights(const std::string& service, const std::map<std::string, int>& weights) override {
    return on_every_host([&](size_t, Target& t) { return t.set_weights(service, weights); });
  }
  Status promote(const std::string& service, const std::string& digest) override {
    return on_every_host([&](size_t, Target& t) { return t.promote(service, digest); });
  }
  Status stop(const std::string& service, const std::string& digest) override {
    return on_every_host([&](size_t, Target& t) { return t.stop(service, digest); });
  }
  Result<std::vector<SlotInfo>> slots() override {
    std::vector<std::vector<SlotInfo>> per(hosts_.size());
    auto s = on_every_host([&](size_t i, Target& t) -> Status {
      auto r = t.slots();
      if (!r) return r.error();
      for (auto& slot : *r) slot.host = hosts_[i]->cfg.name;
      per[i] = std::move(*r);
      return Ok();
    });
    if (!s.ok()) return s.error();
    std::vector<SlotInfo> out;
    for (auto& v : per) out.insert(out.end(), v.begin(), v.end());
    return out;
  }
  // The first host's listener: smoke and load reach the fleet there until a front edge stands before it.
  std::string public_url(const std::string& service) const override {
    return hosts_.front()->agent ? hosts_.front()->agent->public_url(service) : "";
  }
  std::string slot_url(const SlotInfo& slot) const override {
    for (const auto& h : hosts_)
      if ((slot.host.empty() || h->cfg.name == slot.host) && h->agent) return h->agent->slot_url(slot);
    return "";
  }

 private:
  std::string state(const HostLink& h) const { return h.root + "/state"; }

  void connect(HostLink& h) {
    if (auto s = h.ssh->connect(); !s.ok()) {
      h.error = s.error();
      return;
    }
    // One round trip for the root's absolute path and the agent's token: a rollback's time is mostly
    // these per-host exchanges.
    std::string root = host_root(env_, h.cfg);
    auto got =
        h.ssh->run_ok("mkdir -p " + shell_quote(root) + " && cd " + shell_quote(root) + " && pwd && (cat " +
                      shell_quote(token_path("state", kAgentTokenName).string()) + " 2>/dev/null || true)");
    if (!got) {
      h.error = got.error();
      return;
    }
    auto nl = got->find('\n');
    h.root = std::string(trim(got->substr(0, nl)));
    std::string token = nl == std::string::npos ? "" : std::string(trim(got->substr(nl + 1)));
    if (token.empty()) {
      h.error = FailedPrecondition(h.ssh->label() + " has no villager agent for " + env_.name +
                                   " (no control token): run `villager hosts setup " + env_.name + "`");
      return;
    }
    auto port = h.ssh->forward(env_.ssh.agent_port);
    if (!port) {
      h.error = port.error();
      return;
    }
    AgentEndpoint ep;
    ep.control = {"127.0.0.1", static_cast<uint16_t>(*port)};
    ep.token = token;
    ep.public_host = h.cfg.address;
    ep.slot_url = [&h](int slot_port) -> Result<std::string> {
      // One forward per slot port, kept for the session (a bake asks for the same slot many times).
      std::lock_guard lock(h.forward_mu);
      auto it = h.forwards.find(slot_port);
      if (it == h.forwards.end()) {
        auto p = h.ssh->forward(slot_port);
        if (!p) return p.error();
        it = h.forwards.emplace(slot_port, *p).first;
      }
      return "http://127.0.0.1:" + std::to_string(it->second);
    };
    ep.prepare = [this, &h](const std::string&, const std::string& digest) { return prepare(h, digest); };
    h.agent = make_agent_target(config_, env_, std::move(ep));
  }

  // Before a release starts on a host: its artifact (skipped when the host has that digest, checked by
  // sha256 on arrival, checked again by the agent before it unpacks) and the environment's sealed secrets
  // with their key, both over the SSH channel's stdin and mode 0600 there.
  Status prepare(HostLink& h, const std::string& digest) {
    std::lock_guard lock(h.mu);
    auto parsed = Digest::parse(digest);
    if (!parsed) return parsed.error();
    if (!h.has_artifact.count(digest)) {
      fs::path local_store = config_.state_dir() / "artifacts";
      std::string remote_store = state(h) + "/artifacts";
      std::string zip = artifact::artifact_zip_path(remote_store, *parsed).string();
      std::string manifest = artifact::artifact_manifest_path(remote_store, *parsed).string();
      auto have = h.ssh->run("test -f " + shell_quote(zip) + " && test -f " + shell_quote(manifest));
      if (!have) return have.error();
      if (have->exit_code != 0) {
        VILLAGER_RETURN_IF_ERROR(
            h.ssh->upload(artifact::artifact_manifest_path(local_store, *parsed), manifest));
        VILLAGER_RETURN_IF_ERROR(h.ssh->upload(artifact::artifact_zip_path(local_store, *parsed), zip));
      }
      h.has_artifact.insert(digest);
    }
    if (!h.secrets_sent) {
      fs::path file = secrets::secrets_file(config_.state_dir(), env_.name);
      if (fs::exists(file)) {
        auto sealed = read_file(file);
        if (!sealed) return sealed.error();
        auto src = secrets::KeySource::for_env(config_.state_dir(), env_.name);
        std::string key;
        if (const char* v = std::getenv(src.env_var.c_str()); v && *v)
          key = v;
        else if (auto k = read_file(src.key_file))
          key = *k;
        else
          return FailedPrecondition("no key for " + env_.name + "'s secrets ($" + src.env_var + " or " +
                                    src.key_file.string() + "): the hosts could not open them");
        std::string rel_file = fs::relative(file, config_.state_dir()).string();
        VILLAGER_RETURN_IF_ERROR(h.ssh->write_file(state(h) + "/" + rel_file, *sealed));
        VILLAGER_RETURN_IF_ERROR(h.ssh->write_file(secrets::default_key_file(state(h), env_.name).string(),
                                                   std::string(trim(key)) + "\n"));
      }
      h.secrets_sent = true;
    }
    return Ok();
  }

  // Runs f on every host in parallel; one error naming each host that failed, or Ok.
  Status on_every_host(const std::function<Status(size_t, Target&)>& f) {
    std::vector<std::string> failed(hosts_.size());
    in_parallel(hosts_.size(), [&](size_t i) {
      auto t = host_target(i);
      Status s = t ? f(i, **t) : Status(t.error());
      if (!s.ok()) failed[i] = hosts_[i]->cfg.name + ": " + s.error().message;
    });
    std::vector<std::string> msgs;
    for (auto& m : failed)
      if (!m.empty()) msgs.push_back(m);
    if (msgs.empty()) return Ok();
    return Unavailable(join(msgs, "; "));
  }

  const config::Config& config_;
  const config::EnvironmentConfig& env_;
  std::vector<std::unique_ptr<HostLink>> hosts_;
};

}  // namespace

fs::path known_hosts_path(const config::Config& config, const config::EnvironmentConfig& env) {
  if (env.ssh.known_hosts.empty()) return config.state_dir() / "ssh" / (env.name + ".known_hosts");
  return env.ssh.known_hosts.is_absolute() ? env.ssh.known_hosts : config.root / env.ssh.known_hosts;
}

std::string host_root(const config::EnvironmentConfig& env, const config::SshHost& host) {
  return host.root.empty() ? env.ssh.remote_root : host.root;
}

SshEndpoint ssh_endpoint(const config::SshHost& host) {
  return {host.name, host.address, host.port, host.user};
}

SshOptions ssh_options(const config::Config& config, const config::EnvironmentConfig& env) {
  SshOptions o;
  if (!env.ssh.identity.empty())
    o.identity = env.ssh.identity.is_absolute() ? env.ssh.identity : config.root / env.ssh.identity;
  o.known_hosts = known_hosts_path(config, env);
  o.connect_timeout = env.ssh.connect_timeout;
  o.persist = std::chrono::duration_cast<std::chrono::seconds>(env.ssh.persist);
  return o;
}

std::unique_ptr<Target> make_ssh_target(const config::Config& config, const config::EnvironmentConfig& env) {
  return std::unique_ptr<Target>(new SshFleetTarget(config, env));
}

}  // namespace villager::targets
