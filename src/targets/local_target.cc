#include "targets/local_target.h"

#include "base/hash.h"
#include "targets/control_api.h"
#include "targets/control_client.h"
#include "targets/target.h"
#include "targets/tokens.h"

namespace villager::targets {

namespace {

namespace api = control_api;

// The local engine: every change is a call to the agent's control API with the environment's token.
class LocalTarget : public Target {
 public:
  LocalTarget(const config::Config& config, const config::EnvironmentConfig& env, AgentEndpoint endpoint)
      : config_(config),
        env_(env),
        endpoint_(std::move(endpoint)),
        client_(endpoint_.control, endpoint_.token) {}

  std::string kind() const override { return "local"; }

  Result<SlotInfo> start_candidate(const std::string& service, const std::string& digest,
                                   const std::string& version) override {
    return start_on("start", service, digest, version);
  }

  Status set_weights(const std::string& service, const std::map<std::string, int>& weights) override {
    auto r = client_.call_ok("POST", path(service, "routes"), api::to_json(api::SetRoutes{weights}));
    if (!r) return r.error();
    return Ok();
  }

  Status promote(const std::string& service, const std::string& digest) override {
    auto release = Digest::parse(digest);
    if (!release) return release.error();
    auto r = client_.call_ok("POST", path(service, "promote"), api::to_json(api::ReleaseRef{*release}));
    if (!r) return r.error();
    return Ok();
  }

  Status stop(const std::string& service, const std::string& digest) override {
    auto release = Digest::parse(digest);
    if (!release) return release.error();
    auto r = client_.call_ok("POST", path(service, "stop"), api::to_json(api::ReleaseRef{*release}),
                             std::chrono::seconds(60));
    if (!r) return r.error();
    return Ok();
  }

  Result<std::vector<SlotInfo>> slots() override {
    auto body = client_.call_ok("GET", "/v1/env/" + env_.name + "/status");
    if (!body) return body.error();
    return api::parse_status_slots(*body);
  }

  std::string public_url(const std::string& service) const override {
    if (endpoint_.public_host.empty()) {
      auto a = config::public_address(config_, env_, service);
      return a ? a->base_url : "";
    }
    auto it = env_.listen.find(service);  // a fleet host: its own address, where its agent listens
    if (it == env_.listen.end()) return "";
    return "http://" + config::HostPort{endpoint_.public_host, it->second.port}.to_string();
  }

  std::string slot_url(const SlotInfo& slot) const override {
    if (!endpoint_.slot_url) return "http://127.0.0.1:" + std::to_string(slot.port);
    auto url = endpoint_.slot_url(slot.port);
    return url ? *url : "";
  }

  bool supports_rehearsal() const override { return true; }

  Result<SlotInfo> rehearsal_start(const std::string& service, const std::string& digest,
                                   const std::string& version) override {
    return start_on("rehearsal/start", service, digest, version);
  }

  Result<int64_t> rehearsal_finish(const std::string& service, const std::string& digest,
                                   bool abort) override {
    auto release = Digest::parse(digest);
    if (!release) return release.error();
    auto body =
        client_.call_ok("POST", path(service, "rehearsal/finish"),
                        api::to_json(api::FinishRehearsal{*release, abort}), std::chrono::seconds(60));
    if (!body) return body.error();
    if (abort) return int64_t{0};
    return api::parse_swap_ms(*body);
  }
  ControlClient* control() override { return &client_; }

 private:
  // Starts `digest` in a new slot on the agent (`route`: "start" or "rehearsal/start") and returns it.
  Result<SlotInfo> start_on(const std::string& route, const std::string& service, const std::string& digest,
                            const std::string& version) {
    auto release = Digest::parse(digest);
    if (!release) return release.error();
    if (endpoint_.prepare) VILLAGER_RETURN_IF_ERROR(endpoint_.prepare(service, digest));
    const auto* svc = config_.service(service);
    // The agent waits for health up to the service's deadline; give the call that long and a margin.
    auto timeout = (svc ? svc->health.deadline : std::chrono::milliseconds(30000)) + std::chrono::seconds(15);
    auto body = client_.call_ok("POST", path(service, route),
                                api::to_json(api::StartRelease{*release, version}), timeout);
    if (!body) return body.error();
    return api::parse_slot(*body);
  }

  std::string path(const std::string& service, const std::string& action) const {
    return api::service_path(env_.name, service, action);
  }

  const config::Config& config_;
  const config::EnvironmentConfig& env_;
  AgentEndpoint endpoint_;
  ControlClient client_;
};

// The url engine: the service is deployed elsewhere; villager can smoke, monitor and load it only.
class UrlTarget : public Target {
 public:
  explicit UrlTarget(const config::EnvironmentConfig& env) : env_(env) {}
  std::string kind() const override { return "url"; }
  Result<SlotInfo> start_candidate(const std::string&, const std::string&, const std::string&) override {
    return refuse();
  }
  Status set_weights(const std::string&, const std::map<std::string, int>&) override { return refuse(); }
  Status promote(const std::string&, const std::string&) override { return refuse(); }
  Status stop(const std::string&, const std::string&) override { return refuse(); }
  Result<std::vector<SlotInfo>> slots() override { return std::vector<SlotInfo>{}; }
  std::string public_url(const std::string& service) const override {
    auto it = env_.urls.find(service);
    return it == env_.urls.end() ? "" : it->second;
  }
  std::string slot_url(const SlotInfo&) const override { return ""; }

 private:
  Error refuse() const {
    return FailedPrecondition(
        "environment '" + env_.name +
        "' has target \"url\": it is deployed elsewhere, so villager can smoke, monitor and "
        "load it but not change it");
  }
  const config::EnvironmentConfig& env_;
};

}  // namespace

Result<std::unique_ptr<Target>> make_local_target(const config::Config& config,
                                                  const config::EnvironmentConfig& env) {
  auto token = read_token(config.state_dir(), env.name);
  if (!token) return token.error();
  return make_agent_target(config, env, {config.agent.control, *token, "", {}, {}});
}

std::unique_ptr<Target> make_agent_target(const config::Config& config, const config::EnvironmentConfig& env,
                                          AgentEndpoint endpoint) {
  return std::unique_ptr<Target>(new LocalTarget(config, env, std::move(endpoint)));
}

std::unique_ptr<Target> make_url_target(const config::EnvironmentConfig& env) {
  return std::unique_ptr<Target>(new UrlTarget(env));
}

}  // namespace villager::targets
