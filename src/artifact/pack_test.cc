#include "artifact/pack.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <ctime>

#include "artifact/zip_diff.h"
#include "artifact/zip_reader.h"
#include "base/fs.h"
#include "base/hash.h"
#include "testutil/temp_dir.h"

namespace villager::artifact {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& content, fs::perms mode = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(write_file_atomic(p, content, mode).ok());
}

// A small service tree: nested folders, an executable, an empty file.
void make_tree(const fs::path& root, fs::perms file_mode = fs::perms(0644),
               fs::perms exec_mode = fs::perms(0755)) {
  write(root / "bin/send-server", "#!/bin/sh\necho hi\n", exec_mode);
  write(root / "public/index.html", "<html><body>send</body></html>\n", file_mode);
  write(root / "public/en-gb/download/index.html", "<p>download</p>\n", file_mode);
  write(root / "public/app.js", std::string(5000, 'a') + "\n", file_mode);
  write(root / "config/empty", "", file_mode);
}

std::string pack_digest(const fs::path& dir, ZipOptions opts = {}) {
  opts.mtime = kDefaultZipMtime;
  auto z = build_zip(dir, opts);
  EXPECT_TRUE(z.has_value()) << (z ? "" : z.error().message);
  return z ? z->digest.full() : "";
}

TEST(Pack, SameTreeGivesSameDigestWhateverMtimesWalkOrderAndUmask) {
  TempDir a, b;
  make_tree(a.path());
  make_tree(b.path(), fs::perms(0600), fs::perms(0700));  // another umask
  fs::last_write_time(b / "public/index.html", fs::file_time_type::clock::now() - std::chrono::hours(1000));
  fs::last_write_time(b / "bin/send-server", fs::file_time_type::clock::now());
  std::string d1 = pack_digest(a.path());
  EXPECT_EQ(d1.substr(0, 7), "sha256:");
  EXPECT_EQ(pack_digest(b.path()), d1);
  EXPECT_EQ(pack_digest(a.path(), {.reverse_walk = true, .touch_mtimes = true, .mtime = {}}), d1);
}

TEST(Pack, DigestDoesNotDependOnTheHostTimeZone) {
  TempDir a;
  make_tree(a.path());
  ::setenv("TZ", "IST-5:30", 1);
  ::tzset();
  std::string d1 = pack_digest(a.path());
  ::setenv("TZ", "EST+5", 1);
  ::tzset();
  std::string d2 = pack_digest(a.path());
  ::unsetenv("TZ");
  ::tzset();
  EXPECT_EQ(d1, d2);
}

TEST(Pack, PythonBytecodeCachesAreLeftOut) {
  TempDir a, b;
  write(a.path() / "app/main.py", "print('hi')\n");
  write(b.path() / "app/main.py", "print('hi')\n");
  write(b.path() / "app/__pycache__/main.cpython-311.pyc", "bytecode with an mtime");
  write(b.path() / "app/old.pyc", "stray bytecode");
  write(b.path() / "app/old.pyo", "stray bytecode");
  EXPECT_EQ(pack_digest(a.path()), pack_digest(b.path()));
  auto z = build_zip(b.path(), {});
  ASSERT_TRUE(z.has_value());
  ASSERT_EQ(z->files.size(), 1u);
  EXPECT_EQ(z->files[0].path, "app/main.py");
}

TEST(Pack, OneByteChangeChangesTheDigest) {
  TempDir a;
  make_tree(a.path());
  std::string d1 = pack_digest(a.path());
  write(a / "public/en-gb/download/index.html", "<p>download</p>!\n");
  EXPECT_NE(pack_digest(a.path()), d1);
}

TEST(Pack, ExecutableBitChangesTheDigestAndIsKept) {
  TempDir a;
  make_tree(a.path());
  std::string d1 = pack_digest(a.path());
  fs::permissions(a / "public/index.html", fs::perms(0755));
  EXPECT_NE(pack_digest(a.path()), d1);
  auto z = build_zip(a.path(), {.mtime = kDefaultZipMtime});
  ASSERT_TRUE(z.has_value());
  auto entries = read_zip(z->bytes);
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[0].path, "bin/send-server");
  EXPECT_EQ((*entries)[0].mode, 0755u);
  EXPECT_EQ((*entries)[1].path, "config/empty");
  EXPECT_EQ((*entries)[1].mode, 0644u);
  for (const auto& e : *entries) {
    EXPECT_EQ(e.mtime, kDefaultZipMtime) << e.path;
    EXPECT_EQ(e.uid, 0) << e.path;
  }
}

TEST(Pack, SourceDateEpochSetsTheEntryTimeRoundedToEvenSeconds) {
  ::setenv("SOURCE_DATE_EPOCH", "1700000001", 1);
  auto t = zip_mtime_from_env();
  ::setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
  auto bad = zip_mtime_from_env();
  ::setenv("SOURCE_DATE_EPOCH", "5", 1);
  auto early = zip_mtime_from_env();
  ::unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, 1700000000);
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(*early, 315532800);
  EXPECT_EQ(*zip_mtime_from_env(), kDefaultZipMtime);

  TempDir a;
  make_tree(a.path());
  auto z = build_zip(a.path(), {.mtime = 1700000000});
  ASSERT_TRUE(z.has_value());
  EXPECT_NE(z->digest.full(), pack_digest(a.path()));
  EXPECT_EQ((*read_zip(z->bytes))[0].mtime, 1700000000);
}

TEST(Pack, RefusesMissingEmptyDirsAndSymlinks) {
  TempDir a;
  auto missing = build_zip(a / "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  fs::create_directories(a / "empty/sub");
  auto empty = build_zip(a / "empty");
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message.find("no files"), std::string::npos);
  make_tree(a / "tree");
  fs::create_symlink("/etc/passwd", a / "tree/public/passwd");
  auto link = build_zip(a / "tree");
  ASSERT_FALSE(link.has_value());
  EXPECT_NE(link.error().message.find("symlink public/passwd"), std::string::npos) << link.error().message;
}

TEST(Pack, StoresContentAddressedAndOnlyOnce) {
  TempDir a;
  make_tree(a / "dist");
  PackRequest req{
      a / "dist",   "user", "v1.2.3", {"abc123", true}, a / "state/artifacts", {.mtime = kDefaultZipMtime},
      std::nullopt, {}};
  auto r = pack_directory(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->already_stored);
  std::string hex(r->digest.hex());
  EXPECT_EQ(r->zip_path, a / ("state/artifacts/sha256/" + hex + ".zip"));
  EXPECT_TRUE(fs::exists(r->manifest_path));
  EXPECT_TRUE(verify_artifact(a / "state/artifacts", r->digest).ok());
  auto m = read_manifest(a / "state/artifacts", r->digest);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->service, "user");
  EXPECT_EQ(m->version, "v1.2.3");
  EXPECT_EQ(m->git_commit, "abc123");
  EXPECT_TRUE(m->git_dirty);
  ASSERT_EQ(m->files.size(), 5u);
  EXPECT_EQ(m->files[0].path, "bin/send-server");
  EXPECT_EQ(m->files[0].mode, 0755u);
  EXPECT_EQ(m->files[0].sha256, sha256_hex("#!/bin/sh\necho hi\n"));

  auto before = fs::last_write_time(r->manifest_path);
  req.git.commit = "def456";
  auto again = pack_directory(req);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->already_stored);
  EXPECT_EQ(again->digest, r->digest);
  EXPECT_EQ(again->manifest.git_commit, "abc123");
  EXPECT_EQ(fs::last_write_time(r->manifest_path), before);
}

TEST(Pack, DiffNamesTheFirstDifferingEntry) {
  TempDir a;
  make_tree(a.path());
  auto z1 = build_zip(a.path(), {.mtime = kDefaultZipMtime});
  auto same = build_zip(a.path(), {.reverse_walk = true, .mtime = kDefaultZipMtime});
  write(a / "public/app.js", std::string(5000, 'b') + "\n");
  auto z2 = build_zip(a.path(), {.mtime = kDefaultZipMtime});
  ASSERT_TRUE(z1 && z2 && same);
  auto none = first_zip_difference(z1->bytes, same->bytes);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  auto diff = first_zip_difference(z1->bytes, z2->bytes);
  ASSERT_TRUE(diff.has_value() && diff->has_value());
  EXPECT_EQ(**diff, "entry 3 'public/app.js': content differs");
}

}  // namespace
}  // namespace villager::artifact
