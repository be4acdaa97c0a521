#include "base/fs.h"

#include <gtest/gtest.h>

#include "base/hash.h"
#include "testutil/temp_dir.h"

namespace villager {

TEST(Fs, AtomicWriteReplacesContentAndSetsMode) {
  TempDir dir;
  auto p = dir / "secret.txt";
  ASSERT_TRUE(write_file_atomic(p, "one", fs::perms(0600)).ok());
  ASSERT_TRUE(write_file_atomic(p, "two", fs::perms(0600)).ok());
  EXPECT_EQ(*read_file(p), "two");
  EXPECT_EQ(fs::status(p).permissions() & fs::perms::all, fs::perms(0600));
  // No temp file is left behind.
  EXPECT_EQ(list_files(dir.path())->size(), 1u);
}

TEST(Fs, ReadMissingFileNamesIt) {
  auto r = read_file("/nonexistent/villager.toml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_NE(r.error().message.find("/nonexistent/villager.toml"), std::string::npos);
}

TEST(Fs, ListFilesIsSortedAndRelative) {
  TempDir dir;
  ASSERT_TRUE(ensure_dir(dir / "b/c").ok());
  ASSERT_TRUE(write_file_atomic(dir / "b/c/z.txt", "z").ok());
  ASSERT_TRUE(write_file_atomic(dir / "a.txt", "a").ok());
  auto files = list_files(dir.path());
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(*files, (std::vector<std::string>{"a.txt", "b/c/z.txt"}));
}

TEST(Hash, Sha256OfKnownInput) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace villager
