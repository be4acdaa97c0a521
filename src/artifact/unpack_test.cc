#include "artifact/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "artifact/manifest.h"
#include "artifact/pack.h"
#include "base/fs.h"
#include "testutil/temp_dir.h"

namespace villager::artifact {
namespace {

namespace fs = std::filesystem;

la_ssize_t append(archive*, void* client, const void* buf, size_t n) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A hand-made zip with arbitrary entry names, the way an attacker would build one.
std::string evil_zip(const std::vector<std::pair<std::string, mode_t>>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open(a, &out, nullptr, append, nullptr);
  for (const auto& [name, type] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, 0644);
    if (type == AE_IFLNK) archive_entry_set_symlink(e, "/etc/passwd");
    archive_entry_set_size(e, type == AE_IFREG ? 3 : 0);
    archive_write_header(a, e);
    if (type == AE_IFREG) archive_write_data(a, "pwn", 3);
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

TEST(Unpack, RestoresFilesAndExecutableBits) {
  TempDir t;
  fs::create_directories(t / "dist/bin");
  ASSERT_TRUE(write_file_atomic(t / "dist/bin/app", "#!/bin/sh\n", fs::perms(0700)).ok());
  ASSERT_TRUE(write_file_atomic(t / "dist/index.html", "<html/>", fs::perms(0600)).ok());
  ASSERT_TRUE(write_file_atomic(t / "dist/caf\xc3\xa9.html", "utf-8 name").ok());
  auto r = pack_directory({t / "dist", "user", "v1", {}, t / "store", {}, std::nullopt, {}});
  ASSERT_TRUE(r.has_value());
  auto un = unpack_artifact(r->zip_path, t / "rel/user/x");
  ASSERT_TRUE(un.ok()) << un.error().message;
  EXPECT_EQ(*read_file(t / "rel/user/x/bin/app"), "#!/bin/sh\n");
  EXPECT_EQ(fs::status(t / "rel/user/x/bin/app").permissions(), fs::perms(0755));
  EXPECT_EQ(fs::status(t / "rel/user/x/index.html").permissions(), fs::perms(0644));
  EXPECT_EQ(*read_file(t / "rel/user/x/caf\xc3\xa9.html"), "utf-8 name");
  auto again = unpack_artifact(r->zip_path, t / "rel/user/x");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Code::kConflict);
}

TEST(Unpack, RefusesZipSlipAndLinks) {
  TempDir t;
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, mode_t>> entries;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"dotdot", {{"ok.txt", AE_IFREG}, {"../../escaped.txt", AE_IFREG}}, "escapes"},
      {"nested", {{"a/../../escaped.txt", AE_IFREG}}, "escapes"},
      {"absolute", {{"/tmp/escaped.txt", AE_IFREG}}, "absolute"},
      {"link", {{"evil", AE_IFLNK}}, "link"},
      {"dup", {{"a.txt", AE_IFREG}, {"a.txt", AE_IFREG}}, "twice"},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(write_file_atomic(t / (c.name + ".zip"), evil_zip(c.entries)).ok());
    auto s = unpack_artifact(t / (c.name + ".zip"), t / ("out/" + c.name));
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_NE(s.error().message.find(c.expect), std::string::npos) << c.name << ": " << s.error().message;
    EXPECT_FALSE(fs::exists(t / ("out/" + c.name))) << c.name;
  }
  EXPECT_FALSE(fs::exists(t / "escaped.txt"));
  EXPECT_FALSE(fs::exists("/tmp/escaped.txt"));
  // Nothing half-unpacked is left behind either.
  if (fs::exists(t / "out"))
    for (const auto& e : fs::directory_iterator(t / "out")) ADD_FAILURE() << "left behind: " << e.path();
}

TEST(Verify, TamperedZipIsANamedConflict) {
  TempDir t;
  fs::create_directories(t / "dist");
  ASSERT_TRUE(write_file_atomic(t / "dist/index.html", "<html/>").ok());
  auto r = pack_directory({t / "dist", "user", "v1", {}, t / "store", {}, std::nullopt, {}});
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(verify_artifact(t / "store", r->digest).ok());
  std::string bytes = *read_file(r->zip_path);
  bytes[bytes.size() / 2] ^= 0x01;
  ASSERT_TRUE(write_file_atomic(r->zip_path, bytes).ok());
  auto s = verify_artifact(t / "store", r->digest);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kConflict);
  EXPECT_NE(s.error().message.find("tampered"), std::string::npos) << s.error().message;

  auto missing = verify_artifact(t / "store", "sha256:" + std::string(64, '0'));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_FALSE(verify_artifact(t / "store", "md5:abc").ok());
}

TEST(Manifest, RoundTripsThroughJson) {
  Manifest m;
  m.digest = *Digest::from_hex(std::string(64, 'a'));
  m.service = "admin";
  m.version = "v0.3.1";
  m.git_commit = "0123abcd";
  m.git_dirty = true;
  m.created_at = "2026-11-27T12:00:00.000Z";
  m.mtime = kDefaultZipMtime;
  m.zip_size = 99;
  m.files = {{"bin/app", std::string(64, 'b'), 12, 0755}, {"index.html", std::string(64, 'c'), 7, 0644}};
  auto back = parse_manifest(manifest_to_json(m), "test");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(manifest_to_json(*back), manifest_to_json(m));
  EXPECT_EQ(back->files[0].mode, 0755u);
  auto bad = parse_manifest("{\"digest\": 3}", "x.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("x.json"), std::string::npos);
}

TEST(Manifest, RefusesADigestFieldThatIsNotADigest) {
  Manifest m;
  m.digest = Digest::of("zip bytes");
  m.service = "user";
  m.version = "v1";
  std::string text = manifest_to_json(m);
  text.replace(text.find(m.digest.full()), m.digest.full().size(), "sha256:abc");
  auto bad = parse_manifest(text, "y.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("y.json"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("64 hex digits"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace villager::artifact
