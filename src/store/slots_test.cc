#include "store/slots.h"

#include <gtest/gtest.h>

#include "store/test_helpers.h"

namespace villager::store {
namespace {

using testing::digest_of;
using testing::TestStore;

Slot slot(std::string env, char d, SlotState state, int weight) {
  return Slot{env, "user", digest_of(d), "v1", 20000 + d, 4242, 99, state, weight, 0};
}

TEST(Slots, UpsertReplacesAndListOrdersByWeight) {
  TestStore s;
  ASSERT_TRUE(upsert_slot(*s, slot("production", 'a', SlotState::kServing, 100)).ok());
  ASSERT_TRUE(upsert_slot(*s, slot("production", 'b', SlotState::kStarting, 0)).ok());
  ASSERT_TRUE(upsert_slot(*s, slot("explorer", 'c', SlotState::kServing, 100)).ok());

  // Shift traffic: b serves 90, a is kept warm at 10.
  s.clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(upsert_slot(*s, slot("production", 'b', SlotState::kServing, 90)).ok());
  ASSERT_TRUE(upsert_slot(*s, slot("production", 'a', SlotState::kWarm, 10)).ok());

  auto prod = list_slots(*s, "production");
  ASSERT_TRUE(prod) << prod.error().message;
  ASSERT_EQ(prod->size(), 2u);
  EXPECT_EQ((*prod)[0].digest, digest_of('b'));
  EXPECT_EQ((*prod)[0].weight, 90);
  EXPECT_EQ((*prod)[0].state, SlotState::kServing);
  EXPECT_EQ((*prod)[0].updated_at, s->now_ms());
  EXPECT_EQ((*prod)[1].state, SlotState::kWarm);
  EXPECT_EQ((*prod)[1].pid_start_time, 99);
  EXPECT_EQ(list_slots(*s)->size(), 3u);

  ASSERT_TRUE(delete_slot(*s, "production", "user", digest_of('a')).ok());
  EXPECT_EQ(list_slots(*s, "production")->size(), 1u);
}

TEST(Slots, WeightAndPortAreChecked) {
  TestStore s;
  EXPECT_EQ(upsert_slot(*s, slot("production", 'a', SlotState::kServing, 101)).error().code,
            Code::kInvalidArgument);
  Slot bad_port = slot("production", 'a', SlotState::kServing, 0);
  bad_port.port = 70000;
  EXPECT_EQ(upsert_slot(*s, bad_port).error().code, Code::kInvalidArgument);
  EXPECT_TRUE(list_slots(*s)->empty());
}

}  // namespace
}  // namespace villager::store
