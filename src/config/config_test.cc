#include "config/config.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace villager::config {

namespace {
const char* kValid = R"(
[project]
name = "demo"
version_file = "version"

[services.user]
build_dir = "dist/user"
command = ["bin/send-server", "--port", "${PORT}"]

[services.admin]
build_dir = "dist/admin"
command = ["bin/send-server", "--mode", "admin", "--port", "${PORT}"]
protected_paths = ["/tokens/list"]
auth_header = "x-api-key"
auth_secret = "ADMIN_KEY"

[environments.explorer]
target = "local"
listen = { user = "127.0.0.1:8080", admin = "127.0.0.1:8081" }
strategy = "canary"
steps = [10, 50, 100]
step_interval = "1h30m"

[environments.live]
target = "url"
urls = { user = "https://send.example/" }
)";

std::vector<std::string> error_lines(const Result<Config>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? std::vector<std::string>{} : split(r.error().message, '\n');
}
}  // namespace

TEST(Config, ParsesAValidFile) {
  auto c = parse_config(kValid, "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(c->services.size(), 2u);
  EXPECT_EQ(c->services[0].name, "user");
  EXPECT_EQ(c->services[0].health_path, "/info/health");
  const auto* admin = c->service("admin");
  ASSERT_NE(admin, nullptr);
  // The auth secret is always injected, even when not listed under `secrets`.
  EXPECT_EQ(admin->secrets, std::vector<std::string>{"ADMIN_KEY"});
  const auto* env = c->environment("explorer");
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->strategy, Strategy::kCanary);
  EXPECT_EQ(env->step_interval.count(), 5'400'000);
  EXPECT_EQ(env->listen.at("admin").port, 8081);
  EXPECT_EQ(c->environment("live")->urls.at("user"), "https://send.example");
  EXPECT_EQ(c->state_dir(), "/p/.villager");
}

TEST(Config, OnInconclusiveIsRollbackHoldOrPromote) {
  std::string text = kValid;
  auto with = [&](const std::string& value) {
    std::string t = text;
    t.insert(t.find("step_interval = \"1h30m\""), "on_inconclusive = \"" + value + "\"\n");
    return parse_config(t, "villager.toml");
  };
  auto held = with("hold");
  ASSERT_TRUE(held.has_value()) << held.error().message;
  EXPECT_TRUE(held->environment("explorer")->hold_inconclusive());
  EXPECT_FALSE(held->environment("explorer")->promote_inconclusive());
  EXPECT_FALSE(with("promote")->environment("explorer")->hold_inconclusive());
  auto lines = error_lines(with("wait"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"rollback\", \"hold\" or \"promote\", not \"wait\""), std::string::npos)
      << lines[0];
}

namespace {
// kValid with `canary_synthetic = VALUE` in the explorer environment.
Result<Config> with_synthetic(const std::string& value) {
  std::string t = kValid;
  t.insert(t.find("step_interval = \"1h30m\""), "canary_synthetic = " + value + "\n");
  return parse_config(t, "villager.toml");
}
std::string only_error(const Result<Config>& r) {
  auto lines = error_lines(r);
  EXPECT_EQ(lines.size(), 1u) << join(lines, "\n");
  return lines.empty() ? "" : lines[0];
}
}  // namespace

TEST(Config, CanaryLimitsDefaultToTheJudgesAndAreCheckedAtTheirLine) {
  auto c = parse_config(kValid, "villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto* e = c->environment("explorer");
  EXPECT_EQ(e->canary_max_latency_ratio, 1.5);
  EXPECT_EQ(e->canary_max_error_increase, 0.01);
  EXPECT_EQ(e->canary_alpha, 0.05);
  std::string t = kValid;
  t.insert(t.find("step_interval = \"1h30m\""), "canary_max_latency_ratio = 1.2\ncanary_alpha = 0.01\n");
  auto tuned = parse_config(t, "villager.toml");
  ASSERT_TRUE(tuned.has_value()) << tuned.error().message;
  EXPECT_EQ(tuned->environment("explorer")->canary_max_latency_ratio, 1.2);
  EXPECT_EQ(tuned->environment("explorer")->canary_alpha, 0.01);
  std::string bad = kValid;
  bad.insert(bad.find("step_interval = \"1h30m\""), "canary_max_error_increase = 5\n");
  std::string err = only_error(parse_config(bad, "villager.toml"));
  EXPECT_NE(err.find("villager.toml:"), std::string::npos) << err;
  EXPECT_NE(err.find("'canary_max_error_increase' is a fraction"), std::string::npos) << err;
}

TEST(Config, CanarySyntheticIsOffByDefault) {
  auto c = parse_config(kValid, "villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_FALSE(c->environment("explorer")->canary_synthetic.enabled());
}

TEST(Config, CanarySyntheticReadsRequestsRateAndMaxRequests) {
  auto c = with_synthetic(R"({ requests = ["GET /info/health", "HEAD /"], rate = 20, max_requests = 500 })");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& s = c->environment("explorer")->canary_synthetic;
  ASSERT_TRUE(s.enabled());
  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_EQ(s.requests[0].method, "GET");
  EXPECT_EQ(s.requests[0].path, "/info/health");
  EXPECT_EQ(s.requests[1].method, "HEAD");
  EXPECT_EQ(s.requests[1].path, "/");
  EXPECT_EQ(s.rate, 20);
  EXPECT_EQ(s.max_requests, 500u);
  auto low = with_synthetic(R"({ requests = ["GET /"], rate = 0.1, max_requests = 1 })");
  ASSERT_TRUE(low.has_value()) << low.error().message;
  EXPECT_EQ(low->environment("explorer")->canary_synthetic.max_requests, 1u);
}

TEST(Config, CanarySyntheticSendsOnlyGetAndHead) {
  auto e = only_error(with_synthetic(R"({ requests = ["POST /transfers/create"] })"));
  EXPECT_NE(e.find("villager.toml:"), std::string::npos) << e;
  EXPECT_NE(e.find("'POST /transfers/create': only GET and HEAD"), std::string::npos) << e;
}

TEST(Config, CanarySyntheticPathsStartWithSlash) {
  auto e = only_error(with_synthetic(R"({ requests = ["GET info/health"] })"));
  EXPECT_NE(e.find("'GET info/health' is \"METHOD /path\""), std::string::npos) << e;
  e = only_error(with_synthetic(R"({ requests = ["GET"] })"));
  EXPECT_NE(e.find("'GET' is \"METHOD /path\""), std::string::npos) << e;
}

TEST(Config, CanarySyntheticNeedsRequests) {
  auto e = only_error(with_synthetic("{ rate = 5 }"));
  EXPECT_NE(e.find("'canary_synthetic' needs 'requests'"), std::string::npos) << e;
  e = only_error(with_synthetic("{ requests = [] }"));
  EXPECT_NE(e.find("'canary_synthetic' needs 'requests'"), std::string::npos) << e;
}

TEST(Config, CanarySyntheticRateIsBounded) {
  auto e = only_error(with_synthetic(R"({ requests = ["GET /"], rate = 0.05 })"));
  EXPECT_NE(e.find("'rate' is 0.1 to 1000 requests per second, not 0.05"), std::string::npos) << e;
  e = only_error(with_synthetic(R"({ requests = ["GET /"], rate = 1001 })"));
  EXPECT_NE(e.find("not 1001"), std::string::npos) << e;
}

TEST(Config, CanarySyntheticMaxRequestsIsBounded) {
  auto e = only_error(with_synthetic(R"({ requests = ["GET /"], max_requests = 0 })"));
  EXPECT_NE(e.find("'max_requests' must be between 1 and 10000"), std::string::npos) << e;
  e = only_error(with_synthetic(R"({ requests = ["GET /"], max_requests = 10001 })"));
  EXPECT_NE(e.find("'max_requests' must be between 1 and 10000"), std::string::npos) << e;
}

TEST(Config, CanarySyntheticRejectsUnknownKeysAndNonTables) {
  auto e = only_error(with_synthetic(R"({ requests = ["GET /"], rat = 5 })"));
  EXPECT_NE(e.find("unknown key 'rat'"), std::string::npos) << e;
  e = only_error(with_synthetic(R"("GET /")"));
  EXPECT_NE(e.find("'canary_synthetic' must be a table"), std::string::npos) << e;
}

TEST(Config, ReportsEveryErrorAtOnceWithPositions) {
  std::string text = kValid;
  text = replace_all(text, "target = \"local\"", "taget = \"local\"");                  // unknown key
  text = replace_all(text, "step_interval = \"1h30m\"", "step_interval = \"90\"");      // bad duration
  text = replace_all(text, "admin = \"127.0.0.1:8081\"", "admn = \"127.0.0.1:8081\"");  // unknown service
  auto lines = error_lines(parse_config(text, "villager.toml"));
  ASSERT_EQ(lines.size(), 3u) << join(lines, "\n");
  EXPECT_NE(lines[0].find("villager.toml:18:1: unknown key 'taget'"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("did you mean 'target'"), std::string::npos) << lines[0];
  EXPECT_NE(join(lines, "\n").find("service 'admn', which is not defined (did you mean 'admin'?)"),
            std::string::npos);
  EXPECT_NE(join(lines, "\n").find("villager.toml:22:17: 'step_interval'"), std::string::npos)
      << join(lines, "\n");
}

TEST(Config, AServiceOnlyUrlEnvironmentsNameNeedsNoBuildDirOrCommand) {
  auto c = parse_config(R"(
[project]
name = "watch"
version_file = "sgraph_ai_app_send/version"
[services.user]
frontend_pages = ["/"]
[environments.live]
target = "url"
urls = { user = "https://send.example" }
waiver_roles = ["appsec"]
)",
                        "villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->services[0].build_dir, "");
  EXPECT_TRUE(c->services[0].command.empty());
  EXPECT_EQ(c->environments[0].waiver_roles, std::vector<std::string>{"appsec"});
}

TEST(Config, ADeployingEnvironmentNeedsBuildDirAndCommand) {
  std::string text = replace_all(kValid, "build_dir = \"dist/user\"\n", "");
  text = replace_all(text, "command = [\"bin/send-server\", \"--port\", \"${PORT}\"]\n", "");
  auto lines = error_lines(parse_config(text, "villager.toml"));
  ASSERT_EQ(lines.size(), 1u) << join(lines, "\n");
  EXPECT_NE(lines[0].find("villager.toml:6:1: [services.user] has no 'build_dir' or 'command', but "
                          "[environments.explorer] (target \"local\") deploys it"),
            std::string::npos)
      << lines[0];
}

TEST(Config, ABuildStepIsAnArgvWithToolsAndATimeout) {
  std::string text = replace_all(kValid, "build_dir = \"dist/user\"\n",
                                 "build_dir = \"dist/user\"\nbuild = [\"scripts/build.sh\", \"user\"]\n"
                                 "build_tools = [\"python3 --version\"]\nbuild_timeout = \"2m\"\n");
  auto c = parse_config(text, "villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto* user = c->service("user");
  EXPECT_EQ(user->build, (std::vector<std::string>{"scripts/build.sh", "user"}));
  EXPECT_EQ(user->build_tools, std::vector<std::string>{"python3 --version"});
  EXPECT_EQ(user->build_timeout.count(), 120'000);
  // Without the keys: no build, the default timeout.
  EXPECT_TRUE(c->service("admin")->build.empty());
  EXPECT_TRUE(c->service("admin")->build_tools.empty());
  EXPECT_EQ(c->service("admin")->build_timeout.count(), 600'000);
}

TEST(Config, ABuildStepIsCheckedWithItsPosition) {
  // Empty build, tools without a build, a bad timeout: each reported, at its line.
  std::string text = replace_all(kValid, "build_dir = \"dist/user\"\n",
                                 "build_dir = \"dist/user\"\nbuild = []\nbuild_timeout = \"0s\"\n");
  text = replace_all(text, "build_dir = \"dist/admin\"\n",
                     "build_dir = \"dist/admin\"\nbuild_tools = [\"python3 --version\", \" \"]\n");
  auto lines = error_lines(parse_config(text, "villager.toml"));
  std::string all = join(lines, "\n");
  ASSERT_EQ(lines.size(), 4u) << all;
  EXPECT_NE(all.find("villager.toml:8:9: 'build' must not be empty"), std::string::npos) << all;
  EXPECT_NE(all.find("villager.toml:9:17: 'build_timeout' must be longer than 0s"), std::string::npos) << all;
  EXPECT_NE(all.find("'build_tools' needs 'build'"), std::string::npos) << all;
  EXPECT_NE(all.find("a 'build_tools' entry is empty"), std::string::npos) << all;
  // A build with nothing to fill.
  auto no_dir = error_lines(parse_config(R"(
[project]
name = "x"
version_file = "v"
[services.user]
build = ["make"]
[environments.live]
target = "url"
urls = { user = "https://send.example" }
)",
                                         "v.toml"));
  ASSERT_EQ(no_dir.size(), 1u) << join(no_dir, "\n");
  EXPECT_NE(no_dir[0].find("v.toml:6:9: 'build' needs 'build_dir'"), std::string::npos) << no_dir[0];
  // A string is not an argv.
  auto as_string = error_lines(parse_config(
      replace_all(kValid, "build_dir = \"dist/user\"\n", "build_dir = \"dist/user\"\nbuild = \"make\"\n"),
      "villager.toml"));
  ASSERT_EQ(as_string.size(), 1u) << join(as_string, "\n");
  EXPECT_NE(as_string[0].find("villager.toml:8:"), std::string::npos) << as_string[0];
}

TEST(Config, PythonDepsNameTheRequirementsSourcePythonAndPlatform) {
  std::string text =
      replace_all(kValid, "build_dir = \"dist/user\"\n",
                  "build_dir = \"dist/user\"\npython_deps = { requirements = \"req.txt\", from = "
                  "\"wheels\", python = \"3.11\", platform = \"manylinux2014_aarch64\" }\n");
  auto c = parse_config(text, "villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& d = c->service("user")->python_deps;
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->requirements, "req.txt");
  EXPECT_EQ(d->from, "wheels");
  EXPECT_FALSE(d->from_system());
  EXPECT_EQ(d->python, "3.11");
  EXPECT_EQ(d->arch(), "aarch64");
  EXPECT_FALSE(d->musl());
  EXPECT_EQ(d->target, "python");  // the default
  EXPECT_FALSE(c->service("admin")->python_deps.has_value());
}

TEST(Config, PythonDepsAreCheckedWithTheirPosition) {
  std::string text =
      replace_all(kValid, "build_dir = \"dist/user\"\n",
                  "build_dir = \"dist/user\"\npython_deps = { requirements = \"r.txt\", from = "
                  "\"system\", python = \"3\", platform = \"manylinux2014_x86_64\", target = "
                  "\"../out\", pyhton = 1 }\n");
  auto lines = error_lines(parse_config(text, "villager.toml"));
  std::string all = join(lines, "\n");
  ASSERT_EQ(lines.size(), 4u) << all;
  EXPECT_NE(all.find("villager.toml:8:"), std::string::npos) << all;
  EXPECT_NE(all.find("'python' is a CPython version such as \"3.11\", not \"3\""), std::string::npos) << all;
  EXPECT_NE(all.find("'platform' needs a wheel folder"), std::string::npos) << all;
  EXPECT_NE(all.find("'target' is a folder inside build_dir"), std::string::npos) << all;
  EXPECT_NE(all.find("'pyhton'"), std::string::npos) << all;
  // Missing keys, a platform villager cannot check.
  auto missing = error_lines(parse_config(
      replace_all(kValid, "build_dir = \"dist/user\"\n",
                  "build_dir = \"dist/user\"\npython_deps = { from = \"w\", platform = \"win_amd64\" }\n"),
      "villager.toml"));
  std::string m = join(missing, "\n");
  ASSERT_EQ(missing.size(), 3u) << m;
  EXPECT_NE(m.find("missing required key 'requirements'"), std::string::npos) << m;
  EXPECT_NE(m.find("missing required key 'python'"), std::string::npos) << m;
  EXPECT_NE(m.find("'platform' is a Linux pip platform tag"), std::string::npos) << m;
}

TEST(Config, RejectsTwoServicesOnOneAddress) {
  std::string text = replace_all(kValid, "127.0.0.1:8081", "127.0.0.1:8080");
  auto lines = error_lines(parse_config(text, "v.toml"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("already used by explorer.admin"), std::string::npos) << lines[0];
}

TEST(Config, AgentForwardedIsDropOrAppend) {
  auto ok = parse_config(std::string(kValid) + "\n[agent]\nforwarded = \"append\"\n", "v.toml");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->agent.forwarded, "append");
  auto lines =
      error_lines(parse_config(std::string(kValid) + "\n[agent]\nforwarded = \"trust\"\n", "v.toml"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("forwarded must be \"drop\" or \"append\""), std::string::npos) << lines[0];
}

TEST(Config, AgentTlsFilesPairByPositionAndResolveFromTheFilesFolder) {
  auto ok =
      parse_config(std::string(kValid) +
                       "\n[agent]\ntls_cert = [\"certs/a.pem\", \"/etc/b.pem\"]\n"
                       "tls_key = [\"certs/a.key\", \"/etc/b.key\"]\ntls_environments = [\"explorer\"]\n"
                       "redirect_http = \"127.0.0.1:8088\"\nredirect_https_port = 8443\n"
                       "upgrade_drain_timeout = \"5s\"\n",
                   "/srv/app/v.toml");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  ASSERT_EQ(ok->agent.tls_cert.size(), 2u);
  EXPECT_EQ(ok->agent.tls_cert[0], "/srv/app/certs/a.pem");
  EXPECT_EQ(ok->agent.tls_key[1], "/etc/b.key");
  EXPECT_EQ(ok->agent.tls_environments, std::vector<std::string>{"explorer"});
  ASSERT_TRUE(ok->agent.redirect_http);
  EXPECT_EQ(ok->agent.redirect_http->port, 8088);
  EXPECT_EQ(ok->agent.redirect_https_port, 8443);
  EXPECT_EQ(ok->agent.upgrade_drain_timeout, Millis(5000));
  EXPECT_EQ(ok->agent.tls_reload_interval, Millis(2000));
}

TEST(Config, AgentTlsMistakesAreLocated) {
  auto lines = error_lines(
      parse_config(std::string(kValid) + "\n[agent]\ntls_cert = [\"a.pem\", \"b.pem\"]\n"
                                         "tls_key = [\"a.key\"]\ntls_environments = [\"live\", \"nope\"]\n",
                   "v.toml"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("v.toml:29:"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("pair by position: 2 certificate(s), 1 key(s)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("'live' is not a local environment"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("no environment 'nope'"), std::string::npos) << lines[2];
  auto redirect = error_lines(
      parse_config(std::string(kValid) + "\n[agent]\nredirect_http = \"127.0.0.1:80\"\n", "v.toml"));
  ASSERT_EQ(redirect.size(), 1u);
  EXPECT_NE(redirect[0].find("redirect_http redirects to HTTPS: it needs tls_cert"), std::string::npos);
}

// The one answer to "how does villager reach this service": scheme from the agent's TLS, the public
// name from public_names, the listen address to connect to, and the trust root.
TEST(Config, PublicAddressFollowsTheAgentsTlsAndThePublicNames) {
  auto plain = parse_config(kValid, "/srv/app/v.toml");
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  auto a = public_address(*plain, *plain->environment("explorer"), "user");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(a->connect_to, "");
  EXPECT_FALSE(a->tls());
  EXPECT_FALSE(public_address(*plain, *plain->environment("explorer"), "nope"));

  std::string text = std::string(kValid);
  text.replace(text.find("[environments.live]"), 0, "public_names = { user = \"send.example.com\" }\n\n");
  text += "\n[agent]\ntls_cert = [\"certs/a.pem\"]\ntls_key = [\"certs/a.key\"]\ntls_ca = \"certs/ca.pem\"\n";
  auto tls = parse_config(text, "/srv/app/v.toml");
  ASSERT_TRUE(tls.has_value()) << tls.error().message;
  const EnvironmentConfig& env = *tls->environment("explorer");
  EXPECT_TRUE(serves_tls(*tls, env));
  EXPECT_FALSE(serves_tls(*tls, *tls->environment("live")));  // not a local environment
  auto user = public_address(*tls, env, "user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->base_url, "https://send.example.com:8080");
  EXPECT_EQ(user->connect_to, "127.0.0.1:8080");
  EXPECT_EQ(user->ca_file, "/srv/app/certs/ca.pem");
  auto admin = public_address(*tls, env, "admin");  // no public name: its listen address
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->base_url, "https://127.0.0.1:8081");
  EXPECT_EQ(admin->connect_to, "");
}

TEST(Config, PublicNamesAndTlsCaMistakesAreLocated) {
  std::string text = std::string(kValid);
  text.replace(text.find("[environments.live]"), 0,
               "public_names = { user = \"send.example.com:443\", nope = \"x\" }\n\n");
  text += "\n[agent]\ntls_ca = \"ca.pem\"\n";
  auto lines = error_lines(parse_config(text, "v.toml"));
  ASSERT_EQ(lines.size(), 3u) << testing::PrintToString(lines);
  std::string all = lines[0] + lines[1] + lines[2];
  EXPECT_NE(all.find("public name for 'user' must be a host name"), std::string::npos) << all;
  EXPECT_NE(all.find("nope"), std::string::npos) << all;
  EXPECT_NE(all.find("tls_ca is the trust root for the agent's HTTPS listeners: it needs tls_cert"),
            std::string::npos)
      << all;
}

TEST(Config, SshEnvironmentIsReadWithHostsAndBatches) {
  std::string text = std::string(kValid) + R"(
[environments.fleet]
target = "ssh"
listen = { user = "0.0.0.0:8080" }
hosts = [{ name = "web1", address = "10.0.0.11", user = "deploy" },
         { address = "10.0.0.12", port = 2222, root = "/srv/v2", labels = { zone = "b" } }]
ssh_identity = "keys/fleet"
batch = "50%"
bake = "2s"
min_healthy = 1
)";
  auto c = parse_config(text, "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto* e = c->environment("fleet");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->target, TargetKind::kSsh);
  ASSERT_EQ(e->ssh.hosts.size(), 2u);
  EXPECT_EQ(e->ssh.hosts[0].name, "web1");
  EXPECT_EQ(e->ssh.hosts[1].name, "host2");
  EXPECT_EQ(e->ssh.hosts[1].port, 2222);
  EXPECT_EQ(e->ssh.hosts[1].labels.at("zone"), "b");
  EXPECT_EQ(e->ssh.batch.of(2), 1);
  EXPECT_EQ(e->ssh.batch.of(5), 3);
  EXPECT_EQ(e->ssh.min_healthy.of(2), 1);
  EXPECT_EQ(e->ssh.bake.count(), 2000);
  EXPECT_EQ(e->ssh.persist.count(), 60000);  // the default: a rollback after a deploy needs no login
  // The fleet's listen addresses are on its hosts: they do not clash with this host's.
  auto host = *c;
  ASSERT_TRUE(as_fleet_host(host, "fleet", "/srv/state", {"127.0.0.1", 7170}).ok());
  ASSERT_EQ(host.environments.size(), 1u);
  EXPECT_EQ(host.environments[0].target, TargetKind::kLocal);
  EXPECT_EQ(host.state_dir(), "/srv/state");
  EXPECT_FALSE(as_fleet_host(host, "explorer", "/srv/state", {"127.0.0.1", 7170}).ok());
}

TEST(Config, SshEnvironmentMistakesAreLocated) {
  auto lines = error_lines(parse_config(std::string(kValid) + R"(
[environments.fleet]
target = "ssh"
listen = { user = "0.0.0.0:8080" }
hosts = [{ address = "10.0.0.11" }, { address = "10.0.0.11" }]
batch = "150%"
ssh_persist = "1500ms"
strategy = "canary"
steps = [10, 100]
)",
                                        "v.toml"));
  std::string all = join(lines, "\n");
  EXPECT_NE(all.find("ssh_persist must be whole seconds"), std::string::npos) << all;
  EXPECT_NE(all.find("listed twice"), std::string::npos) << all;
  EXPECT_NE(all.find("'batch' must be"), std::string::npos) << all;
  EXPECT_NE(all.find("switches whole hosts in batches"), std::string::npos) << all;
  auto none = error_lines(parse_config(std::string(kValid) + "\n[environments.fleet]\ntarget = \"ssh\"\n"
                                                             "listen = { user = \"0.0.0.0:8080\" }\n",
                                       "v.toml"));
  ASSERT_EQ(none.size(), 1u);
  EXPECT_NE(none[0].find("no 'hosts'"), std::string::npos) << none[0];
  auto elsewhere = error_lines(parse_config(std::string(kValid) +
                                                "\n[environments.x]\nlisten = { user = \"127.0.0.1:9999\" }\n"
                                                "bake = \"1s\"\n",
                                            "v.toml"));
  ASSERT_EQ(elsewhere.size(), 1u);
  EXPECT_NE(elsewhere[0].find("only for target \"ssh\""), std::string::npos) << elsewhere[0];
}

TEST(Config, FleetFrontIsReadAndItsMistakesLocated) {
  const std::string fleet = std::string(kValid) + R"(
[environments.fleet]
target = "ssh"
listen = { user = "0.0.0.0:8080", admin = "0.0.0.0:8081" }
hosts = [{ name = "web1", address = "10.0.0.11" }, { name = "web2", address = "10.0.0.12" }]
)";
  auto c = parse_config(
      fleet + "front = { listen = { user = \"127.0.0.1:9080\" }, check_interval = \"250ms\", fall = 3 }\n",
      "v.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const FrontConfig& f = c->environment("fleet")->ssh.front;
  ASSERT_TRUE(f.configured());
  EXPECT_EQ(f.listen.at("user").port, 9080);
  EXPECT_EQ(f.check_interval.count(), 250);
  EXPECT_EQ(f.fall, 3);
  EXPECT_EQ(f.rise, 2);
  EXPECT_FALSE(c->environment("explorer")->ssh.front.configured());

  std::string all =
      join(error_lines(parse_config(
               fleet + "front = { listen = { files = \"127.0.0.1:9\", user = \"nowhere\" }, rise = 0 }\n",
               "v.toml")),
           "\n");
  EXPECT_NE(all.find("'files', which the fleet's 'listen' does not serve"), std::string::npos) << all;
  EXPECT_NE(all.find("front listen address for 'user'"), std::string::npos) << all;
  EXPECT_NE(all.find("rise"), std::string::npos) << all;
  auto empty = error_lines(parse_config(fleet + "front = { fall = 2 }\n", "v.toml"));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_NE(empty[0].find("front needs 'listen'"), std::string::npos) << empty[0];
  EXPECT_NE(empty[0].find("v.toml:"), std::string::npos) << empty[0];
}

TEST(Config, AgentOverloadCapsAreRead) {
  auto def = parse_config(kValid, "v.toml");
  ASSERT_TRUE(def.has_value()) << def.error().message;
  EXPECT_EQ(def->agent.max_connections, 10000u);
  EXPECT_EQ(def->agent.max_connections_per_ip, 0u);
  EXPECT_EQ(def->agent.max_inflight_per_release, 1000u);
  auto set = parse_config(std::string(kValid) +
                              "\n[agent]\nmax_connections = 500\nmax_connections_per_ip = 20\n"
                              "max_inflight_per_release = 64\nmax_body_bytes = 4294967296\n",
                          "v.toml");
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(set->agent.max_connections, 500u);
  EXPECT_EQ(set->agent.max_connections_per_ip, 20u);
  EXPECT_EQ(set->agent.max_inflight_per_release, 64u);
  EXPECT_EQ(set->agent.max_body_bytes, size_t{4} << 30);
  auto lines = error_lines(parse_config(std::string(kValid) + "\n[agent]\nmax_connections = -1\n", "v.toml"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("max_connections"), std::string::npos) << lines[0];
}

TEST(Config, RejectsBadAddressesAndTypes) {
  std::string text = replace_all(kValid, "127.0.0.1:8080", "127.0.0.1:99999");
  text = replace_all(text, "health_path", "x");  // absent here, so no effect
  text = replace_all(text, "build_dir = \"dist/user\"", "build_dir = 7");
  auto lines = error_lines(parse_config(text, "v.toml"));
  ASSERT_EQ(lines.size(), 2u) << join(lines, "\n");
  EXPECT_NE(join(lines, "\n").find("'build_dir' must be a string, not an integer"), std::string::npos);
  EXPECT_NE(join(lines, "\n").find("port out of range"), std::string::npos);
}

TEST(Config, CanaryStepsMustRiseToOneHundred) {
  std::string text = replace_all(kValid, "[10, 50, 100]", "[50, 10]");
  auto lines = error_lines(parse_config(text, "v.toml"));
  EXPECT_NE(join(lines, "\n").find("'steps' must rise strictly"), std::string::npos);
}

TEST(Config, SyntaxErrorIsLocated) {
  auto r = parse_config("[project\nname = 1", "v.toml");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(starts_with(r.error().message, "v.toml:1:")) << r.error().message;
}

TEST(Config, StarterConfigIsValid) {
  auto c = parse_config(*starter_config(), "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_NE(c->environment("production"), nullptr);
  EXPECT_TRUE(c->environment("production")->rehearse);
  EXPECT_EQ(c->monitor.alarms.size(), 2u);
}

// The Python preset names the real repository's handlers and deploys production to Lambda.
TEST(Config, PythonStarterConfigIsValid) {
  auto text = starter_config("sgraph-send-python");
  ASSERT_TRUE(text.has_value());
  auto c = parse_config(*text, "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const EnvironmentConfig* prod = c->environment("production");
  ASSERT_NE(prod, nullptr);
  EXPECT_EQ(prod->target, TargetKind::kLambda);
  EXPECT_EQ(prod->lambda.handlers.at("admin"),
            "sgraph_ai_app_send.lambda__admin.lambda_function.lambda_handler__admin.run");
  EXPECT_EQ(prod->lambda.functions.at("user"), "sgraph_ai_app_send__user-prod");
  EXPECT_EQ(prod->lambda.memory_mb, 512);
  EXPECT_EQ(c->project.version_file, "sgraph_ai_app_send/version");
  EXPECT_EQ(c->environment("dev")->target, TargetKind::kLocal);
  EXPECT_FALSE(starter_config("nope").has_value());
}

TEST(HostPort, ParsesIpv4AndIpv6) {
  EXPECT_EQ(parse_host_port("[::1]:8080")->host, "::1");
  EXPECT_EQ(parse_host_port("127.0.0.1:80")->to_string(), "127.0.0.1:80");
  EXPECT_EQ(parse_host_port("[::1]:80")->to_string(), "[::1]:80");
  EXPECT_FALSE(parse_host_port("::1:80").has_value());
  EXPECT_FALSE(parse_host_port("localhost").has_value());
  EXPECT_FALSE(parse_host_port("h:0").has_value());
}

}  // namespace villager::config
