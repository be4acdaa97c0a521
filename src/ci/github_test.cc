#include <gtest/gtest.h>

#include <cstdlib>

#include "base/fs.h"
#include "base/strings.h"
#include "ci/ci.h"
#include "secrets/secret_store.h"
#include "testutil/temp_dir.h"

namespace villager::ci {
namespace {

// A repository: villager.toml and the golden workflows it generates under .github/workflows/.
const fs::path kRepo = fs::path(VILLAGER_CI_TESTDATA) / "sgraph-send";

config::Config load_fixture(const fs::path& file = kRepo / "villager.toml") {
  auto cfg = config::load_config(file);
  EXPECT_TRUE(cfg.has_value()) << cfg.error().message;
  return std::move(cfg).value();
}

std::vector<GeneratedFile> generate(const config::Config& cfg) {
  auto files = github_workflows(cfg, {});
  EXPECT_TRUE(files.has_value()) << files.error().message;
  return files ? *files : std::vector<GeneratedFile>{};
}

const GeneratedFile* find(const std::vector<GeneratedFile>& files, const std::string& name) {
  for (const auto& f : files)
    if (f.path == ".github/workflows/" + name) return &f;
  return nullptr;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A local explorer and a lambda production: the config the goldens were made from.
TEST(GithubWorkflows, MatchTheGoldenFilesByteForByte) {
  auto files = generate(load_fixture());
  ASSERT_EQ(files.size(), 3u);
  for (const auto& f : files) {
    auto golden = read_file(kRepo / f.path);
    ASSERT_TRUE(golden.has_value()) << "no golden for " << f.path;
    EXPECT_EQ(f.text, *golden) << f.path << " differs from its golden; if the change is meant, regenerate "
                               << "as src/ci/testdata/sgraph-send/villager.toml says";
  }
}

TEST(GithubWorkflows, SameConfigSameBytesWherever) {
  TempDir dir;
  fs::copy_file(kRepo / "villager.toml", dir / "villager.toml");
  auto a = generate(load_fixture());
  auto b = generate(load_fixture(dir / "villager.toml"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].path, b[i].path);
    EXPECT_EQ(a[i].text, b[i].text) << "generation must not depend on where the config lives";
    EXPECT_FALSE(contains(a[i].text, dir.path().string()));
  }
}

TEST(GithubWorkflows, EveryFileSaysItIsGeneratedAndHowToRegenerate) {
  for (const auto& f : generate(load_fixture())) {
    EXPECT_EQ(f.text.rfind(kGeneratedMarker, 0), 0u) << f.path;
    EXPECT_TRUE(contains(f.text, "#   villager ci github -c villager.toml\n")) << f.path;
  }
}

TEST(GithubWorkflows, OnlyLambdaEnvironmentsGetAwsCredentialsThroughOidc) {
  auto files = generate(load_fixture());
  const auto* dev = find(files, "villager-dev.yml");
  const auto* prod = find(files, "villager-production.yml");
  ASSERT_TRUE(dev && prod);
  EXPECT_FALSE(contains(dev->text, "configure-aws-credentials"));
  EXPECT_FALSE(contains(dev->text, "id-token"));
  EXPECT_TRUE(contains(prod->text, "uses: aws-actions/configure-aws-credentials@v4"));
  EXPECT_TRUE(contains(prod->text, "role-to-assume: '${{ secrets.VILLAGER_AWS_ROLE_PRODUCTION }}'"));
  EXPECT_TRUE(contains(prod->text, "id-token: write"));
  EXPECT_TRUE(contains(prod->text, "aws-region: eu-west-2"));
  EXPECT_FALSE(contains(prod->text, "AWS_SECRET_ACCESS_KEY"));
}

TEST(GithubWorkflows, ARoleArnFromTheConfigIsUsedAsIs) {
  auto text = *read_file(kRepo / "villager.toml");
  auto cfg =
      config::parse_config(text + "aws_role = { production = \"arn:aws:iam::123456789012:role/deployer\" }\n",
                           kRepo / "villager.toml");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
  const auto* prod = find(generate(*cfg), "villager-production.yml");
  ASSERT_TRUE(prod);
  EXPECT_TRUE(contains(prod->text, "role-to-assume: 'arn:aws:iam::123456789012:role/deployer'"));
}

TEST(GithubWorkflows, ProductionIsGatedByTheRolesItRequires) {
  const auto* prod = find(generate(load_fixture()), "villager-production.yml");
  ASSERT_TRUE(prod);
  EXPECT_TRUE(contains(prod->text, "villager approvals \"$DIGEST_USER\" --env production --gate || rc=$?\n"));
  EXPECT_TRUE(
      contains(prod->text, "villager approvals \"$DIGEST_ADMIN\" --env production --gate || rc=$?\n"));
  EXPECT_TRUE(contains(prod->text, "      - package\n      - gate\n"));
}

TEST(GithubWorkflows, SecretsAreNamedNeverWrittenEvenWhenSet) {
  TempDir dir;
  fs::copy_file(kRepo / "villager.toml", dir / "villager.toml");
  auto cfg = load_fixture(dir / "villager.toml");
  const std::vector<std::string> values = {"access-token-5f2c9e81d7", "admin-api-key-b6a1c3f09e"};
  for (const std::string env : {"explorer", "production"}) {
    secrets::SecretStore::Options o;
    o.create_key = true;
    auto store = secrets::SecretStore::open(cfg.state_dir(), env,
                                            secrets::KeySource::for_env(cfg.state_dir(), env), o);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ASSERT_TRUE(store->set("SGRAPH_SEND__ACCESS_TOKEN", values[0]).has_value());
    ASSERT_TRUE(store->set("FAST_API__AUTH__API_KEY__VALUE", values[1]).has_value());
  }
  std::vector<std::string> keys;
  for (const std::string env : {"explorer", "production"})
    keys.push_back(std::string(trim(*read_file(cfg.state_dir() / "keys" / (env + ".key")))));
  for (const auto& f : generate(cfg)) {
    for (const auto& v : values) EXPECT_FALSE(contains(f.text, v)) << f.path;
    for (const auto& k : keys) EXPECT_FALSE(contains(f.text, k)) << f.path << " holds a secrets key";
  }
  const auto* dev = find(generate(cfg), "villager-dev.yml");
  ASSERT_TRUE(dev);
  EXPECT_TRUE(
      contains(dev->text, "VILLAGER_SECRETS_KEY_EXPLORER: '${{ secrets.VILLAGER_SECRETS_KEY_EXPLORER }}'"));
}

TEST(GithubWorkflows, OneDeployableEnvironmentHasNoProductionWorkflow) {
  auto cfg = config::parse_config(R"(
[project]
name = "one"
version_file = "version"
[services.web]
build_dir = "dist"
command = ["bin/web"]
[environments.staging]
listen = { web = "127.0.0.1:8080" }
[environments.live]
target = "url"
urls = { web = "https://web.example" }
)",
                                  "/tmp/villager.toml");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
  auto files = generate(*cfg);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, ".github/workflows/villager-dev.yml");
  EXPECT_EQ(files[1].path, ".github/workflows/villager-rollback.yml");
  EXPECT_FALSE(contains(files[1].text, "live")) << "a url environment cannot be rolled back by villager";
}

TEST(GithubWorkflows, NoDeployableEnvironmentIsAnError) {
  auto cfg = config::parse_config(R"(
[project]
name = "none"
version_file = "version"
[services.web]
build_dir = "dist"
command = ["bin/web"]
[environments.live]
target = "url"
urls = { web = "https://web.example" }
)",
                                  "/tmp/villager.toml");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
  auto files = github_workflows(*cfg, {});
  ASSERT_FALSE(files.has_value());
  EXPECT_TRUE(contains(files.error().message, "no environment villager can deploy to"))
      << files.error().message;
}

TEST(GithubWorkflows, AConfigInASubfolderIsNamedFromTheRepositoryRoot) {
  GithubOptions o;
  o.config_path = "deploy/villager.toml";
  auto files = github_workflows(load_fixture(), o);
  ASSERT_TRUE(files.has_value());
  const auto& dev = (*files)[0].text;
  EXPECT_TRUE(contains(dev, "VILLAGER_CONFIG: deploy/villager.toml\n"));
  EXPECT_TRUE(contains(dev, "path: deploy/.villager/artifacts\n"));
  EXPECT_TRUE(contains(dev, "villager ci check -c 'deploy/villager.toml'"));
}

// docs/ci.md shows the production workflow in parts with notes between them; put together, the parts
// must be the generated file, so the annotated workflow cannot go stale.
TEST(GithubWorkflows, TheAnnotatedWorkflowInTheDocsIsTheGeneratedOne) {
  auto doc = read_file(VILLAGER_CI_DOC);
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  size_t at = doc->find("## The production workflow, annotated");
  ASSERT_NE(at, std::string::npos);
  size_t end = doc->find("\n## ", at + 1);
  std::string shown;
  for (size_t open = doc->find("```yaml\n", at); open < end; open = doc->find("```yaml\n", open)) {
    open += 8;
    size_t close = doc->find("```\n", open);
    shown += doc->substr(open, close - open);
    open = close;
  }
  const auto* prod = find(generate(load_fixture()), "villager-production.yml");
  ASSERT_TRUE(prod);
  EXPECT_EQ(shown, prod->text) << "update docs/ci.md's annotated workflow";
}

}  // namespace
}  // namespace villager::ci
