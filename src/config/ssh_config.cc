#include "config/ssh_config.h"

#include <regex>
#include <set>

#include "base/strings.h"

namespace villager::config {

namespace {

const char* kSshOnlyKeys[] = {
    "hosts",      "ssh_identity", "known_hosts", "remote_root",         "agent_port",  "batch",
    "batch_wait", "bake",         "min_healthy", "ssh_connect_timeout", "ssh_persist", "front"};
const std::vector<std::string> kHostKeys = {"name", "address", "port", "user", "root", "labels"};
const std::vector<std::string> kFrontKeys = {"listen", "check_interval", "check_timeout", "fall", "rise"};

// `batch = 2` or `batch = "25%"`.
void get_host_count(TomlReader& r, const toml::table& t, const std::string& key, HostCount& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (auto i = n->value<int64_t>()) {
    if (*i < 1 || *i > 10000)
      r.error_at(*n, "'" + key + "' must be 1..10000 hosts or a percentage such as \"25%\"");
    out = {static_cast<int>(*i), false};
    return;
  }
  static const std::regex kPercent("^([0-9]{1,3})%$");
  std::smatch m;
  std::string s = n->value<std::string>().value_or("");
  if (std::regex_match(s, m, kPercent)) {
    int v = std::stoi(m[1].str());
    if (v >= 1 && v <= 100) {
      out = {v, true};
      return;
    }
  }
  r.error_at(*n, "'" + key + "' must be a number of hosts (2) or a percentage of the fleet (\"25%\")");
}

void parse_hosts(TomlReader& r, const toml::table& t, const std::string& where, SshConfig& ssh) {
  const toml::node* n = t.get("hosts");
  if (!n) {
    r.error(t.source(), where +
                            " has target \"ssh\" but no 'hosts', such as "
                            "[{ name = \"web1\", address = \"10.0.0.11\", user = \"deploy\" }]");
    return;
  }
  const toml::array* a = n->as_array();
  if (!a || a->empty()) {
    r.error_at(
        *n,
        "'hosts' must be a non-empty array of tables such as { name = \"web1\", address = \"10.0.0.11\" }");
    return;
  }
  static const std::regex kAddress("^[A-Za-z0-9.:_-]{1,253}$");
  std::set<std::string> names, addresses;
  for (const toml::node& hn : *a) {
    const toml::table* ht = hn.as_table();
    if (!ht) {
      r.error_at(
          hn, "each entry of 'hosts' must be a table such as { name = \"web1\", address = \"10.0.0.11\" }");
      continue;
    }
    SshHost h;
    h.name = "host" + std::to_string(ssh.hosts.size() + 1);
    r.check_keys(*ht, where + " hosts", kHostKeys);
    r.get(*ht, "name", h.name);
    r.get(*ht, "address", h.address, /*required=*/true);
    r.get(*ht, "port", h.port, 1, 65535);
    r.get(*ht, "user", h.user);
    r.get(*ht, "root", h.root);
    r.get(*ht, "labels", h.labels);
    if (!valid_name(h.name))
      r.error_at(hn, "host name '" + h.name + "' may hold only letters, digits, - and _");
    if (!h.address.empty() && !std::regex_match(h.address, kAddress))
      r.error_at(hn, "host address '" + h.address + "' must be a host name or an IP address");
    if (!h.user.empty() && !valid_name(h.user))
      r.error_at(hn, "ssh user '" + h.user + "' may hold only letters, digits, - and _");
    if (!names.insert(h.name).second) r.error_at(hn, "host name '" + h.name + "' is listed twice");
    std::string key = h.address + ":" + std::to_string(h.port) + (h.root.empty() ? "" : ":" + h.root);
    if (!h.address.empty() && !addresses.insert(key).second)
      r.error_at(hn, "host " + h.address + ":" + std::to_string(h.port) +
                         " is listed twice (give each a different 'root' to run two agents on one host)");
    ssh.hosts.push_back(std::move(h));
  }
}

// `front = { listen = { user = "127.0.0.1:8080" }, check_interval = "1s", fall = 2, rise = 2 }`.
void parse_front(TomlReader& r, const toml::table& t, const std::string& where, EnvironmentConfig& e) {
  const toml::node* n = t.get("front");
  if (!n) return;
  const toml::table* ft = n->as_table();
  if (!ft) {
    r.error_at(*n, "'front' must be a table such as { listen = { user = \"127.0.0.1:8080\" } }");
    return;
  }
  FrontConfig& f = e.ssh.front;
  r.check_keys(*ft, where + " front", kFrontKeys);
  const toml::table* lt = ft->get("listen") ? ft->get("listen")->as_table() : nullptr;
  if (!lt || lt->empty()) {
    r.error(ft->source(), where + " front needs 'listen', such as { user = \"127.0.0.1:8080\" }");
  } else {
    for (auto&& [sk, sv] : *lt) {
      std::string svc(sk.str());
      if (!e.listen.count(svc)) {
        r.error_at(sv, where + " front listens for '" + svc + "', which the fleet's 'listen' does not serve");
        continue;
      }
      auto hp = sv.is_string()
                    ? parse_host_port(sv.as_string()->get())
                    : Result<HostPort>(InvalidArgument("must be a string such as \"127.0.0.1:8080\""));
      if (!hp)
        r.error_at(sv, "front listen address for '" + svc + "': " + hp.error().message);
      else
        f.listen[svc] = *hp;
    }
  }
  r.get_duration(*ft, "check_interval", f.check_interval);
  r.get_duration(*ft, "check_timeout", f.check_timeout);
  r.get(*ft, "fall", f.fall, 1, 100);
  r.get(*ft, "rise", f.rise, 1, 100);
  if (f.check_interval.count() < 50)
    r.error(r.where(*ft, "check_interval"), where + " front: check_interval must be at least 50ms");
}

}  // namespace

int HostCount::of(int fleet) const {
  if (value <= 0 || fleet <= 0) return 0;
  int n = percent ? (value * fleet + 99) / 100 : value;
  return std::min(std::max(n, 1), fleet);
}

void parse_ssh_environment(TomlReader& r, const toml::table& t, EnvironmentConfig& e) {
  std::string where = "[environments." + e.name + "]";
  if (e.target != TargetKind::kSsh) {
    for (const char* k : kSshOnlyKeys)
      if (t.get(k)) r.error(r.where(t, k), where + ": '" + std::string(k) + "' is only for target \"ssh\"");
    return;
  }
  SshConfig& s = e.ssh;
  parse_hosts(r, t, where, s);
  if (e.listen.empty())
    r.error(r.where(t, "listen"), where +
                                      " has target \"ssh\" but no 'listen' addresses (each service's "
                                      "address on every host, such as { user = \"0.0.0.0:8080\" })");
  if (!e.urls.empty()) r.error(r.where(t, "urls"), where + ": 'urls' is only for target \"url\"");
  if (e.strategy == Strategy::kCanary)
    r.error(r.where(t, "strategy"), where +
                                        ": a fleet switches whole hosts in batches ('batch', 'bake', "
                                        "'min_healthy'); per-host canary weights are not supported");
  std::string identity, known;
  r.get(t, "ssh_identity", identity);
  r.get(t, "known_hosts", known);
  s.identity = identity;
  s.known_hosts = known;
  r.get(t, "remote_root", s.remote_root);
  if (s.remote_root.empty() || s.remote_root.find_first_of(" '\"\\$`;&|<>\n") != std::string::npos)
    r.error(r.where(t, "remote_root"),
            "remote_root must be a path without spaces or shell characters: '" + s.remote_root + "'");
  for (const auto& h : s.hosts)
    if (h.root.find_first_of(" '\"\\$`;&|<>\n") != std::string::npos)
      r.error(r.where(t, "hosts"),
              "host " + h.name + ": root must be a path without spaces or shell characters");
  r.get(t, "agent_port", s.agent_port, 1, 65535);
  get_host_count(r, t, "batch", s.batch);
  get_host_count(r, t, "min_healthy", s.min_healthy);
  r.get_duration(t, "batch_wait", s.batch_wait);
  r.get_duration(t, "bake", s.bake);
  r.get_duration(t, "ssh_connect_timeout", s.connect_timeout);
  r.get_duration(t, "ssh_persist", s.persist);
  if (s.persist.count() % 1000 != 0 || s.persist > std::chrono::hours(24))
    r.error(r.where(t, "ssh_persist"), "ssh_persist must be whole seconds, at most 24h (0 = off)");
  parse_front(r, t, where, e);
}

Status as_fleet_host(Config& c, const std::string& env, const std::filesystem::path& state_dir,
                     const HostPort& control) {
  const EnvironmentConfig* e = c.environment(env);
  if (!e) return InvalidArgument("no environment '" + env + "' in " + c.file.string());
  if (e->target != TargetKind::kSsh)
    return InvalidArgument("environment '" + env + "' has target \"" +
                           std::string(target_kind_name(e->target)) +
                           "\", not \"ssh\": only a fleet's hosts run --fleet-host");
  if (!state_dir.is_absolute()) return InvalidArgument("--state-dir must be absolute: " + state_dir.string());
  EnvironmentConfig host = *e;
  host.target = TargetKind::kLocal;
  c.environments = {std::move(host)};
  c.project.state_dir = state_dir.string();
  c.agent.control = control;
  return Ok();
}

}  // namespace villager::config
