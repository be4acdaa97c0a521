#include "front/haproxy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "testutil/temp_dir.h"

namespace villager::front {
namespace {

const char* kFleet = R"(
[project]
name = "demo"
version_file = "version"
[services.user]
build_dir = "dist/user"
command = ["bin/u", "${PORT}"]
[services.admin]
build_dir = "dist/admin"
command = ["bin/a", "${PORT}"]
protected_paths = ["/info/health"]
auth_header = "x-api-key"
auth_secret = "ADMIN_KEY"
[environments.fleet]
target = "ssh"
listen = { user = "0.0.0.0:8080", admin = "0.0.0.0:8081" }
hosts = [{ name = "web1", address = "10.0.0.11" }, { name = "web2", address = "10.0.0.12" }]
front = { listen = { user = "127.0.0.1:9080", admin = "127.0.0.1:9081" }, check_interval = "500ms", fall = 3, rise = 1 }
)";

TEST(Haproxy, OneFrontendAndBackendPerServiceWithTheKeyFromTheEnvironment) {
  auto c = config::parse_config(kFleet, "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  std::string cfg = haproxy_config(*c, *c->environment("fleet"));
  for (const char* want :
       {"frontend user\n    bind 127.0.0.1:9080\n", "frontend admin\n    bind 127.0.0.1:9081\n",
        "    server web1 10.0.0.11:8080 check\n", "    server web2 10.0.0.12:8081 check\n",
        "http-check send meth GET uri /info/health hdr x-api-key \"${VILLAGER_FRONT_ADMIN_KEY}\"\n",
        "default-server inter 500ms fall 3 rise 1\n",
        "# Needs in HAProxy's environment: VILLAGER_FRONT_ADMIN_KEY (the value of secret ADMIN_KEY)"})
    EXPECT_NE(cfg.find(want), std::string::npos) << want << "\n" << cfg;
  // The user service's health is public: its check sends no key.
  auto user = cfg.substr(cfg.find("backend user"));
  EXPECT_EQ(user.substr(0, user.find("frontend")).find("hdr"), std::string::npos) << cfg;
  EXPECT_EQ(haproxy_key_variable("file-store"), "VILLAGER_FRONT_FILE_STORE_KEY");
}

// The real HAProxy accepts what we write (skipped where haproxy is not installed).
TEST(Haproxy, RealHaproxyAcceptsTheFile) {
  if (std::system("command -v haproxy >/dev/null 2>&1") != 0) GTEST_SKIP() << "haproxy not installed";
  auto c = config::parse_config(kFleet, "/p/villager.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  TempDir dir;
  const auto file = dir.path() / "haproxy.cfg";
  std::ofstream(file) << haproxy_config(*c, *c->environment("fleet"));
  std::string cmd = "VILLAGER_FRONT_ADMIN_KEY=k haproxy -c -q -f " + file.string() + " > " +
                    (dir.path() / "out").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(dir.path() / "out");
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace villager::front
