#include "secrets/secret_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "base/fs.h"
#include "base/strings.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::secrets {
namespace {

// Each test uses key files only, unless it sets the variable itself (and unsets it again).
class SecretStoreTest : public ::testing::Test {
 protected:
  static void clear_key_variables() {
    ::unsetenv("VILLAGER_SECRETS_KEY_PRODUCTION");
    ::unsetenv("VILLAGER_SECRETS_KEY_EXPLORER");
  }
  void SetUp() override { clear_key_variables(); }
  void TearDown() override { clear_key_variables(); }

  fs::path state() const { return dir_.path() / ".villager"; }
  KeySource keys(const std::string& env) const { return KeySource::for_env(state(), env); }
  SecretStore open_new(const std::string& env) {
    SecretStore::Options o;
    o.create_key = true;
    auto s = SecretStore::open(state(), env, keys(env), o);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    return std::move(s).value();
  }
  std::string file_text(const std::string& env) const {
    return read_file(secrets_file(state(), env)).value();
  }

  TempDir dir_;
};

TEST_F(SecretStoreTest, FirstSetCreatesKeyFileWithMode0600AndGitignore) {
  auto s = open_new("production");
  EXPECT_TRUE(s.key_created());
  ASSERT_TRUE(s.set("API_TOKEN", "tok-1234567890").has_value());
  struct stat st {};
  ASSERT_EQ(::stat(default_key_file(state(), "production").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(read_file(state() / "keys" / ".gitignore").value().find('*'), std::string::npos);
  auto again = SecretStore::open(state(), "production", keys("production"));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->key_created());
  EXPECT_EQ(again->get("API_TOKEN")->reveal(), "tok-1234567890");
}

TEST_F(SecretStoreTest, RoundTripKeepsEveryVersionAndRemoval) {
  FakeClock clock;
  SecretStore::Options o;
  o.create_key = true;
  o.clock = &clock;
  auto s = SecretStore::open(state(), "production", keys("production"), o).value();
  EXPECT_EQ(s.set("B_KEY", "bee-value-1").value(), 1);
  EXPECT_EQ(s.set("A_KEY", "aye-value-1").value(), 1);
  EXPECT_EQ(s.set("A_KEY", "aye-value-2").value(), 2);
  EXPECT_EQ(s.set("A_KEY", "aye-value-2").value(), 2);  // unchanged keeps its version
  EXPECT_EQ(s.rm("B_KEY").value(), 2);
  EXPECT_EQ(s.set("B_KEY", "bee-value-3").value(), 3);
  EXPECT_EQ(s.rm("A_KEY").value(), 3);

  auto r = SecretStore::open(state(), "production", keys("production")).value();
  EXPECT_EQ(r.get("A_KEY").error().code, Code::kNotFound);
  EXPECT_EQ(r.get("A_KEY", 1)->reveal(), "aye-value-1");
  EXPECT_EQ(r.get("A_KEY", 2)->reveal(), "aye-value-2");
  EXPECT_FALSE(r.get("A_KEY", 3).has_value());
  EXPECT_EQ(r.get("B_KEY")->reveal(), "bee-value-3");
  EXPECT_EQ(r.get("B_KEY", 1)->reveal(), "bee-value-1");
  auto list = r.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "B_KEY");
  EXPECT_EQ(list[0].version, 3);
  EXPECT_EQ(list[0].updated_at, format_rfc3339(clock.now()));
  EXPECT_EQ(r.history().size(), 6u);
  EXPECT_EQ(r.versions(), (std::map<std::string, int>{{"B_KEY", 3}}));
  // Names are in clear (reviewable in git); values never are, in any encoding.
  std::string text = file_text("production");
  EXPECT_NE(text.find("A_KEY 2 "), std::string::npos);
  for (std::string v : {"aye-value-1", "aye-value-2", "bee-value-1", "bee-value-3"})
    for (const auto& form : {v, hex_encode(v), base64_encode(v), base64url_encode(v)})
      EXPECT_EQ(text.find(form), std::string::npos) << form;
}

TEST_F(SecretStoreTest, ValuesReturnedAreRegisteredForRedaction) {
  clear_secrets_for_test();
  auto s = open_new("production");
  ASSERT_TRUE(s.set("API_TOKEN", "redact-me-please").has_value());
  clear_secrets_for_test();
  auto r = SecretStore::open(state(), "production", keys("production")).value();
  EXPECT_EQ(redact("x redact-me-please y"), "x *** y");
  EXPECT_EQ(redact(base64_encode("redact-me-please")), "***");
}

TEST_F(SecretStoreTest, RejectsBadNamesAndValues) {
  auto s = open_new("production");
  EXPECT_EQ(s.set("1BAD", "value-1234").error().code, Code::kInvalidArgument);
  EXPECT_EQ(s.set("BAD NAME", "value-1234").error().code, Code::kInvalidArgument);
  EXPECT_EQ(s.set("GOOD", "").error().code, Code::kInvalidArgument);
  EXPECT_EQ(s.set("GOOD", std::string("a\0b", 3)).error().code, Code::kInvalidArgument);
  EXPECT_FALSE(fs::exists(secrets_file(state(), "production")));
  EXPECT_EQ(SecretStore::open(state(), "../etc", keys("x")).error().code, Code::kInvalidArgument);
}

TEST_F(SecretStoreTest, ExplorerKeyCannotOpenProduction) {
  open_new("production").set("API_TOKEN", "prod-only-value").value();
  open_new("explorer").set("API_TOKEN", "explorer-value").value();
  KeySource wrong{"", default_key_file(state(), "explorer")};
  auto r = SecretStore::open(state(), "production", wrong);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("secrets for production: wrong key (the file's MAC does not verify with"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("explorer.key"), std::string::npos);
  // Nor does a copy of the production file pass as explorer's, even with the production key.
  ASSERT_TRUE(write_file_atomic(secrets_file(state(), "explorer"), file_text("production")).ok());
  auto c = SecretStore::open(state(), "explorer", KeySource{"", default_key_file(state(), "production")});
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("environment 'production', not 'explorer'"), std::string::npos);
}

TEST_F(SecretStoreTest, WrongKeyInEnvironmentVariableIsNamed) {
  open_new("production").set("API_TOKEN", "prod-only-value").value();
  ::setenv("VILLAGER_SECRETS_KEY_PRODUCTION", base64_encode(std::string(32, 'k')).c_str(), 1);
  auto r = SecretStore::open(state(), "production", keys("production"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "secrets for production: wrong key (the file's MAC does not verify with "
            "VILLAGER_SECRETS_KEY_PRODUCTION)");
  ::setenv("VILLAGER_SECRETS_KEY_PRODUCTION", "not base64!", 1);
  auto bad = SecretStore::open(state(), "production", keys("production"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("$VILLAGER_SECRETS_KEY_PRODUCTION: not base64"), std::string::npos);
}

TEST_F(SecretStoreTest, KeyFromEnvironmentVariableWinsOverKeyFile) {
  Key k = Key::generate("test");
  ::setenv("VILLAGER_SECRETS_KEY_PRODUCTION", base64_encode(k.master()).c_str(), 1);
  auto s = open_new("production");
  EXPECT_FALSE(s.key_created());
  EXPECT_EQ(s.key_origin(), "VILLAGER_SECRETS_KEY_PRODUCTION");
  ASSERT_TRUE(s.set("API_TOKEN", "via-env-var-key").has_value());
  EXPECT_FALSE(fs::exists(default_key_file(state(), "production")));
  ::unsetenv("VILLAGER_SECRETS_KEY_PRODUCTION");
  auto r = SecretStore::open(state(), "production", keys("production"));
  ASSERT_FALSE(r.has_value());  // the file exists, no key: an error, never a fresh key
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_NE(r.error().message.find("no key"), std::string::npos);
}

TEST_F(SecretStoreTest, KeyFileLooserThan0600IsRefused) {
  open_new("production").set("API_TOKEN", "prod-only-value").value();
  fs::permissions(default_key_file(state(), "production"), fs::perms(0644));
  auto r = SecretStore::open(state(), "production", keys("production"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kFailedPrecondition);
  EXPECT_NE(r.error().message.find("mode 0644 is looser than 0600"), std::string::npos) << r.error().message;
}

TEST_F(SecretStoreTest, ConcurrentWritersLoseNothing) {
  constexpr int kPerWriter = 50;
  std::vector<pid_t> kids;
  for (char who : {'A', 'B'}) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Both children race for the first key too: only one key may ever be created.
      SecretStore::Options o;
      o.create_key = true;
      for (int i = 0; i < kPerWriter; ++i) {
        auto s = SecretStore::open(state(), "production", keys("production"), o);
        if (!s || !s->set(std::string(1, who) + "_" + std::to_string(i), "value-" + std::to_string(i)))
          ::_exit(1);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(k, &status, 0), k);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto r = SecretStore::open(state(), "production", keys("production"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->list().size(), 2u * kPerWriter);
  EXPECT_EQ(r->get("A_49")->reveal(), "value-49");
  EXPECT_EQ(r->get("B_0")->reveal(), "value-0");
}

TEST_F(SecretStoreTest, SetManyIsAllOrNothing) {
  auto s = open_new("production");
  ASSERT_TRUE(s.set("KEEP", "keep-value").has_value());
  std::string before = file_text("production");
  auto r = s.set_many({{"NEW_ONE", "new-value"}, {"bad name", "x-value"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(file_text("production"), before);
  auto ok = s.set_many({{"NEW_ONE", "new-value"}, {"KEEP", "keep-value"}, {"KEEP2", "v2-value"}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ((*ok)[0].kind, SetOutcome::kNew);
  EXPECT_EQ((*ok)[1].kind, SetOutcome::kUnchanged);
  EXPECT_EQ(s.list().size(), 3u);
}

TEST_F(SecretStoreTest, RotateKeyReencryptsAndKeepsOldKey) {
  auto s = open_new("production");
  ASSERT_TRUE(s.set("API_TOKEN", "rotate-me-1").has_value());
  ASSERT_TRUE(s.set("API_TOKEN", "rotate-me-2").has_value());
  std::string old_key = read_file(default_key_file(state(), "production")).value();
  auto where = s.rotate_key();
  ASSERT_TRUE(where.has_value()) << where.error().message;
  EXPECT_EQ(*where, default_key_file(state(), "production"));
  EXPECT_NE(read_file(*where).value(), old_key);
  EXPECT_EQ(read_file(where->string() + ".old").value(), old_key);
  struct stat st {};
  ASSERT_EQ(::stat(where->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = SecretStore::open(state(), "production", keys("production"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get("API_TOKEN", 1)->reveal(), "rotate-me-1");
  EXPECT_EQ(r->get("API_TOKEN")->reveal(), "rotate-me-2");
  auto with_old = SecretStore::open(state(), "production", KeySource{"", where->string() + ".old"});
  ASSERT_FALSE(with_old.has_value());
  EXPECT_NE(with_old.error().message.find("wrong key"), std::string::npos);
}

TEST_F(SecretStoreTest, RotateKeyFromEnvironmentVariableWritesNewKeyBeside) {
  Key k = Key::generate("test");
  ::setenv("VILLAGER_SECRETS_KEY_PRODUCTION", base64_encode(k.master()).c_str(), 1);
  auto s = open_new("production");
  ASSERT_TRUE(s.set("API_TOKEN", "rotate-me-env").has_value());
  auto where = s.rotate_key();
  ASSERT_TRUE(where.has_value()) << where.error().message;
  EXPECT_EQ(where->filename(), "production.key.new");
  ::setenv("VILLAGER_SECRETS_KEY_PRODUCTION", trim(read_file(*where).value()).data(), 1);
  auto r = SecretStore::open(state(), "production", keys("production"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->get("API_TOKEN")->reveal(), "rotate-me-env");
}

// Tamper tests: each kind of edit is detected and named, and a write refuses to build on it.
class TamperTest : public SecretStoreTest {
 protected:
  void SetUp() override {
    SecretStoreTest::SetUp();
    auto s = open_new("production");
    // Lines: 1 header, 2 A_KEY v1, 3 A_KEY v2, 4 B_KEY v1, 5 C_KEY v1, 6 mac.
    s.set("A_KEY", "aye-value-1").value();
    s.set("A_KEY", "aye-value-2").value();
    s.set("B_KEY", "bee-value-1").value();
    s.set("C_KEY", "cee-value-1").value();
    lines_ = split(file_text("production"), '\n');
    ASSERT_EQ(lines_.size(), 7u) << file_text(
        "production");  // the last is empty: the file ends with a newline
  }
  std::string rejoin() const { return join(lines_, "\n"); }
  // Writes `text`, opens, and returns the error message ("" when it opened).
  std::string open_with(const std::string& text) {
    EXPECT_TRUE(write_file_atomic(secrets_file(state(), "production"), text, fs::perms(0600)).ok());
    auto r = SecretStore::open(state(), "production", keys("production"));
    return r ? "" : r.error().message;
  }
  std::vector<std::string> lines_;
};

TEST_F(TamperTest, UntouchedFileOpens) {
  EXPECT_EQ(open_with(rejoin()), "");
}

TEST_F(TamperTest, EditedValueIsNamedByLineAndSecret) {
  auto f = split(lines_[2], ' ');
  f[5][4] = f[5][4] == 'A' ? 'B' : 'A';
  lines_[2] = join(f, " ");
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("line 3 (secret A_KEY v2): the value does not verify: the line was edited"),
            std::string::npos)
      << e;
}

TEST_F(TamperTest, EditedNameIsNamedByLine) {
  lines_[3] = replace_all(lines_[3], "B_KEY", "B_KEZ");
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("line 4 (secret B_KEZ v1): the value does not verify"), std::string::npos) << e;
}

TEST_F(TamperTest, EditedVersionIsNamed) {
  lines_[4] = replace_all(lines_[4], "C_KEY 1 ", "C_KEY 2 ");
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("line 5 (secret C_KEY v2): the value does not verify"), std::string::npos) << e;
}

TEST_F(TamperTest, SwappedLinesAreDetected) {
  std::swap(lines_[3], lines_[4]);
  std::string e = open_with(rejoin());
  EXPECT_NE(
      e.find("line 5 (secret B_KEY v1): out of order after line 4 (secret C_KEY v1): lines were reordered"),
      std::string::npos)
      << e;
}

TEST_F(TamperTest, SwappedVersionsOfOneSecretAreDetected) {
  std::swap(lines_[1], lines_[2]);
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("line 2 (secret A_KEY v2): the versions before it are missing"), std::string::npos) << e;
}

TEST_F(TamperTest, DeletedMiddleVersionIsDetected) {
  lines_.erase(lines_.begin() + 1);  // A_KEY v1
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("line 2 (secret A_KEY v2): the versions before it are missing"), std::string::npos) << e;
  EXPECT_NE(e.find("the header counts 4 secret lines but the file has 3: a line was deleted"),
            std::string::npos);
}

TEST_F(TamperTest, DeletedLatestVersionIsDetected) {
  lines_.erase(lines_.begin() + 2);  // A_KEY v2: a quiet rollback of the secret
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("the header counts 4 secret lines but the file has 3: a line was deleted or added"),
            std::string::npos)
      << e;
}

TEST_F(TamperTest, DeletedLineWithFixedUpCountIsDetectedByMac) {
  lines_.erase(lines_.begin() + 4);  // C_KEY v1
  lines_[0] = replace_all(lines_[0], "lines=4", "lines=3");
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("the MAC does not verify"), std::string::npos) << e;
}

TEST_F(TamperTest, TruncatedInsideALineIsDetected) {
  std::string text = rejoin();
  std::string e = open_with(text.substr(0, text.find("B_KEY") + 20));
  EXPECT_NE(e.find("line 4 (secret B_KEY): truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("no MAC line"), std::string::npos) << e;
}

TEST_F(TamperTest, TruncatedMacLineIsDetected) {
  lines_.erase(lines_.begin() + 5, lines_.end());
  std::string e = open_with(rejoin() + "\n");
  EXPECT_NE(e.find("truncated: no MAC line at the end"), std::string::npos) << e;
}

TEST_F(TamperTest, AppendedLineIsDetected) {
  std::string e = open_with(rejoin() + lines_[4] + "\n");
  EXPECT_NE(e.find("line 7: content after the MAC line (appended?)"), std::string::npos) << e;
}

TEST_F(TamperTest, DuplicatedLineIsDetected) {
  lines_.insert(lines_.begin() + 4, lines_[3]);
  std::string e = open_with(rejoin());
  EXPECT_NE(e.find("line 5 (secret B_KEY v1): out of order"), std::string::npos) << e;
}

TEST_F(TamperTest, EditedHeaderIsDetected) {
  lines_[0] = replace_all(lines_[0], "key=", "key=0");
  EXPECT_NE(open_with(rejoin()).find("line 1: the header was edited (key fingerprint)"), std::string::npos);
}

TEST_F(TamperTest, WriteRefusesATamperedFileAndLeavesItAsIs) {
  auto s = SecretStore::open(state(), "production", keys("production")).value();  // opened before the edit
  std::swap(lines_[3], lines_[4]);
  std::string tampered = rejoin();
  ASSERT_TRUE(write_file_atomic(secrets_file(state(), "production"), tampered, fs::perms(0600)).ok());
  auto r = s.set("D_KEY", "dee-value-1");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("out of order"), std::string::npos) << r.error().message;
  EXPECT_EQ(file_text("production"), tampered);
}

}  // namespace
}  // namespace villager::secrets
