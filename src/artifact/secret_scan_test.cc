#include "artifact/secret_scan.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "testutil/temp_dir.h"

namespace villager::artifact {
namespace {

namespace fs = std::filesystem;

// Planted secrets are assembled at run time so this source file does not itself trip secret scanners.
const std::string kAwsKeyId = std::string("AKIA") + "Q3EGRK7XZ2MNB5TW";
const std::string kAwsSecret = std::string("wJalrXUtnFEMI/K7MDENG/") + "bPxRfiCYz9q2LrT4vH";
const std::string kGithub = std::string("ghp_") + "x7Kq2mN9vB4cR8tY1wE5uI3oP6aS0dF2gH4j";
const std::string kSlack = std::string("xoxb-") + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx";
const std::string kWebhook =
    std::string("https://hooks.slack.com/services/") + "T01ABCDEF/B02GHIJKL/q9W8e7R6t5Y4u3I2o1P0aSdF";
const std::string kPemHeader = std::string("-----BEGIN RSA ") + "PRIVATE KEY-----";
const std::string kPassword = std::string("Zq8#vL2!pW") + "x9Tr4mK";

void write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(write_file_atomic(p, content).ok());
}

std::vector<std::string> rules_of(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.rule);
  return out;
}

TEST(SecretScan, FindsEachRuleWithLineColumnAndMask) {
  std::string text =
      "# deploy settings\n"
      "aws_access_key_id = " +
      kAwsKeyId +
      "\n"
      "aws_secret_access_key = " +
      kAwsSecret +
      "\n"
      "GITHUB=" +
      kGithub +
      "\n"
      "  slack: \"" +
      kSlack +
      "\"\n"
      "hook: " +
      kWebhook + "\n" + kPemHeader +
      "\nMIIEpAIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----\n"
      "db_password: \"" +
      kPassword + "\"\n";
  auto f = scan_content("conf/app.env", text);
  ASSERT_EQ(f.size(), 7u) << ::testing::PrintToString(rules_of(f));
  EXPECT_EQ(rules_of(f),
            (std::vector<std::string>{"aws-access-key-id", "aws-secret-access-key", "github-token",
                                      "slack-token", "slack-webhook", "private-key", "generic-secret"}));
  EXPECT_EQ(f[0].file, "conf/app.env");
  EXPECT_EQ(f[0].line, 2u);
  EXPECT_EQ(f[0].column, 21u);
  EXPECT_EQ(f[0].masked, "AKIA****");
  EXPECT_EQ(f[3].line, 5u);
  EXPECT_EQ(f[3].column, 11u);
  EXPECT_EQ(f[6].masked, "Zq8#****");
  EXPECT_EQ(f[6].fingerprint, finding_fingerprint("generic-secret", kPassword));
  for (const auto& x : f) {
    EXPECT_EQ(x.masked.find(kPassword), std::string::npos);
    EXPECT_EQ(x.masked.size(), 8u);
  }
}

TEST(SecretScan, AwsSecretNeedsAKeyIdNearbyOrItsName) {
  // A lone 40-character mixed-case value is common (hashes, ids) and is not an AWS secret by itself.
  EXPECT_TRUE(scan_content("a", "value " + kAwsSecret + "\n").empty());
  auto near = scan_content("a", kAwsKeyId + "\n" + kAwsSecret + "\n");
  EXPECT_EQ(rules_of(near), (std::vector<std::string>{"aws-access-key-id", "aws-secret-access-key"}));
  std::string far = kAwsKeyId + "\n" + std::string(kAwsSecretNearBytes + 10, '\n') + "x " + kAwsSecret + "\n";
  EXPECT_EQ(rules_of(scan_content("a", far)), (std::vector<std::string>{"aws-access-key-id"}));
}

TEST(SecretScan, MinifiedSingleLineGivesTheRightColumn) {
  std::string prefix;
  for (int i = 0; i < 20000; ++i) prefix += "function f" + std::to_string(i) + "(e){return e+1};";
  std::string js = prefix + "var k=\"" + kGithub + "\";" + prefix + "\n";
  auto f = scan_content("assets/app.min.js", js);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].line, 1u);
  EXPECT_EQ(f[0].column, prefix.size() + 8);
  EXPECT_EQ(f[0].rule, "github-token");
}

TEST(SecretScan, FindsAKeyNextToBinaryData) {
  std::string bin(
      "\x7f"
      "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
      16);
  for (int i = 0; i < 4096; ++i) bin.push_back(static_cast<char>((i * 7919) % 256));
  bin += std::string("\0\xff\x01", 3) + kAwsKeyId + std::string("\0\x02\xfe", 3);
  for (int i = 0; i < 512; ++i) bin.push_back(static_cast<char>((i * 31) % 256));
  auto f = scan_content("bin/server", bin);
  ASSERT_EQ(rules_of(f), (std::vector<std::string>{"aws-access-key-id"}));
  EXPECT_EQ(f[0].masked, "AKIA****");
}

TEST(SecretScan, IgnoresPlaceholdersNamesAndLowEntropy) {
  for (std::string line :
       {"password = \"changeme-please-123\"", "api_key: ${SGRAPH_SEND__API_KEY}",
        "token = \"<your token here>\"", "secret: {{ vault_secret_2024 }}",
        "ACCESS_TOKEN_NAME=SGRAPH_SEND__ACCESS_TOKEN", "token:e.accessToken",
        "password == \"Zq8#vL2!pWx9Tr4mK\"", "token_ttl = 86400000000000", "password = \"aaaaaaaaaaaa1\"",
        "secret: 'Please enter your secret phrase 1'",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "key = AKIAIOSFODNN7EXAMPLE"}) {
    EXPECT_TRUE(scan_content("x", line + "\n").empty()) << line;
  }
}

TEST(SecretScan, InlineMarkerSilencesItsLineOnly) {
  std::string text = "test_token = \"" + kGithub +
                     "\"  # villager:allow fixture\n"
                     "real_token = \"" +
                     kGithub + "\"\n";
  size_t allowed = 0;
  auto f = scan_content("t.py", text, &allowed);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].line, 2u);
  EXPECT_EQ(allowed, 1u);
}

TEST(SecretScan, TreeScanFindsNestedSecretsAndHonoursTheAllowlist) {
  TempDir t;
  write(t / "dist/a/b/c/deep/settings.json", "{\n  \"slack\": \"" + kSlack + "\"\n}\n");
  write(t / "dist/keys/server.pem", kPemHeader + "\nMIIEowIBAAKCAQEAx\n");
  write(t / "dist/fixtures/sample.env", "API_KEY=" + kPassword + "\n");
  write(t / "dist/.git/config", "token = " + kGithub + "\n");  // never scanned
  auto r = scan_tree(t / "dist");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->findings.size(), 3u);
  EXPECT_EQ(r->findings[0].file, "a/b/c/deep/settings.json");
  EXPECT_EQ(r->findings[0].line, 2u);
  EXPECT_EQ(r->findings[1].file, "fixtures/sample.env");
  EXPECT_EQ(r->findings[2].file, "keys/server.pem");

  write(t / "dist/.villager-scan-allow",
        "# test fixtures hold fake credentials on purpose\n"
        "generic-secret:fixtures/*\n" +
            r->findings[2].fingerprint + "  # the demo key\n");
  auto allowed = scan_tree(t / "dist");
  ASSERT_TRUE(allowed.has_value()) << allowed.error().message;
  ASSERT_EQ(allowed->findings.size(), 1u);
  EXPECT_EQ(allowed->findings[0].rule, "slack-token");
  EXPECT_EQ(allowed->allowed, 2u);

  // A glob for another rule does not silence it.
  write(t / "other.allow", "github-token:fixtures/*\n");
  ScanOptions other_opts;
  other_opts.allowlist = t / "other.allow";
  auto other = scan_tree(t / "dist", other_opts);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->findings.size(), 3u);
  write(t / "bad.allow", "just words\n");
  ScanOptions bad_opts;
  bad_opts.allowlist = t / "bad.allow";
  auto bad = scan_tree(t / "dist", bad_opts);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("bad.allow:1"), std::string::npos) << bad.error().message;
}

TEST(SecretScan, PathPrefixLetsAProjectAllowlistNameProjectPaths) {
  TempDir t;
  write(t / "dist/user/cfg.env", "API_KEY=" + kPassword + "\n");
  write(t / "dist/user/.villager-scan-allow", "*:*\n");  // ignored when default_allowlist is off
  write(t / "allow", "generic-secret:dist/user/*.env\n");
  ScanOptions opts;
  opts.default_allowlist = false;
  opts.path_prefix = "dist/user/";
  auto found = scan_tree(t / "dist/user", opts);
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->findings.size(), 1u);
  EXPECT_EQ(found->findings[0].file, "dist/user/cfg.env");
  opts.allowlist = t / "allow";
  auto allowed = scan_tree(t / "dist/user", opts);
  ASSERT_TRUE(allowed.has_value());
  EXPECT_TRUE(allowed->findings.empty());
}

TEST(SecretScan, SkipsFilesOverTheSizeLimitWithANote) {
  TempDir t;
  write(t / "big.bin", std::string(2048, 'x') + kAwsKeyId);
  write(t / "small.txt", "hello\n");
  ScanOptions opts;
  opts.max_file_bytes = 1024;
  auto r = scan_tree(t.path(), opts);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->findings.empty());
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("big.bin: skipped"), std::string::npos);
  EXPECT_EQ(r->files_scanned, 1u);
}

TEST(SecretScan, NoFalsePositiveOnASendLikeFrontend) {
  fs::path fixture = fs::path(VILLAGER_ARTIFACT_TESTDATA) / "send_frontend";
  auto r = scan_tree(fixture);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->files_scanned, 4u);
  for (const auto& f : r->findings)
    ADD_FAILURE() << f.file << ":" << f.line << ":" << f.column << ": " << f.rule << " " << f.masked;
}

TEST(SecretScan, EntropyAndMask) {
  EXPECT_DOUBLE_EQ(shannon_entropy("aaaa"), 0.0);
  EXPECT_DOUBLE_EQ(shannon_entropy("abcd"), 2.0);
  EXPECT_EQ(mask_value("abcdefgh"), "abcd****");
  EXPECT_EQ(mask_value("ab"), "ab****");
}

}  // namespace
}  // namespace villager::artifact
