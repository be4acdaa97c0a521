#include "transfer_store.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/hash.h"
#include "testutil/temp_dir.h"

namespace send_server {
namespace {

TEST(TransferStore, LifecycleKeepsSgraphLayoutAndHashesTheIp) {
  villager::TempDir dir;
  TransferStore store(dir.path(), /*store_raw_ip=*/false);
  auto m = store.create(3, "192.0.2.1");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  std::string id = m->transfer_id;
  ASSERT_TRUE(valid_transfer_id(id));
  EXPECT_EQ(store.download(id).error().code, villager::Code::kFailedPrecondition);
  EXPECT_EQ(store.complete(id).error().code, villager::Code::kFailedPrecondition);
  ASSERT_TRUE(store.upload(id, std::string("\x00\x01\x02\xff", 4)).has_value());
  ASSERT_TRUE(store.complete(id).has_value());
  EXPECT_EQ(store.upload(id, "x").error().code, villager::Code::kConflict);
  auto payload = store.download(id);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(*payload, std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(store.info(id)->downloads, 1u);

  auto meta = villager::read_file(dir.path() / "transfers" / id.substr(0, 2) / id / "meta.json");
  ASSERT_TRUE(meta.has_value());
  EXPECT_NE(meta->find(villager::sha256_hex("192.0.2.1")), std::string::npos);
  EXPECT_EQ(meta->find("192.0.2.1"), std::string::npos) << *meta;
}

TEST(TransferStore, RejectsIdsThatAreNotTwelveHex) {
  villager::TempDir dir;
  TransferStore store(dir.path(), false);
  for (const char* bad : {"", "../../etc/pa", "0123456789AB", "0123456789abc", "0123456789a/"})
    EXPECT_EQ(store.info(bad).error().code, villager::Code::kInvalidArgument) << bad;
  EXPECT_EQ(store.info("0123456789ab").error().code, villager::Code::kNotFound);
}

}  // namespace
}  // namespace send_server
