#include "store/releases.h"

#include <gtest/gtest.h>

#include "store/test_helpers.h"

namespace villager::store {
namespace {

using testing::digest_of;
using testing::TestStore;

TEST(Releases, UpsertThenGetRoundTrips) {
  TestStore s;
  Release r{"user", "v1.2.3", digest_of('a'), "0123abc", true, 0};
  ASSERT_TRUE(upsert_release(*s, r).ok());
  auto got = get_release(*s, "user", digest_of('a'));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->version, "v1.2.3");
  EXPECT_EQ(got->git_commit, "0123abc");
  EXPECT_TRUE(got->dirty);
  EXPECT_EQ(got->created_at, s->now_ms());
}

TEST(Releases, UpsertUpdatesButKeepsFirstSeenTime) {
  TestStore s;
  ASSERT_TRUE(upsert_release(*s, {"user", "v1", digest_of('a'), "c1", true, 1000}).ok());
  ASSERT_TRUE(upsert_release(*s, {"user", "v1-renamed", digest_of('a'), "c2", false, 2000}).ok());
  auto got = get_release(*s, "user", digest_of('a'));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->version, "v1-renamed");
  EXPECT_EQ(got->git_commit, "c2");
  EXPECT_FALSE(got->dirty);
  EXPECT_EQ(got->created_at, 1000);
  EXPECT_EQ(list_releases(*s, "user")->size(), 1u);
}

TEST(Releases, CommitTimeIsKeptWhenAnUpsertDoesNotKnowIt) {
  TestStore s;
  ASSERT_TRUE(upsert_release(*s, {"user", "v1", digest_of('a'), "c1", false, 1000, 1'700'000'000'000}).ok());
  ASSERT_TRUE(upsert_release(*s, {"user", "v1", digest_of('a'), "c1", false, 0}).ok());
  EXPECT_EQ(get_release(*s, "user", digest_of('a'))->commit_time, 1'700'000'000'000);
  ASSERT_TRUE(upsert_release(*s, {"user", "v1", digest_of('a'), "c1", false, 0, 1'700'000'001'000}).ok());
  EXPECT_EQ(get_release(*s, "user", digest_of('a'))->commit_time, 1'700'000'001'000);
}

TEST(Releases, GetUnknownIsNotFound) {
  TestStore s;
  auto got = get_release(*s, "user", digest_of('f'));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
}

TEST(Releases, ListIsPerServiceNewestFirst) {
  TestStore s;
  ASSERT_TRUE(upsert_release(*s, {"user", "v1", digest_of('a'), "", false, 1000}).ok());
  ASSERT_TRUE(upsert_release(*s, {"user", "v2", digest_of('b'), "", false, 3000}).ok());
  ASSERT_TRUE(upsert_release(*s, {"admin", "v1", digest_of('c'), "", false, 2000}).ok());
  auto list = list_releases(*s, "user");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].version, "v2");
  EXPECT_EQ((*list)[1].version, "v1");
}

TEST(Releases, DigestMustBeSha256) {
  TestStore s;
  Status st = upsert_release(*s, {"user", "v1", "md5:abc", "", false, 0});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("recording release user md5:abc"), std::string::npos)
      << st.error().message;
}

}  // namespace
}  // namespace villager::store
