#include "targets/control_api.h"

#include <gtest/gtest.h>

namespace villager::targets::control_api {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');
const Digest kRelease = *Digest::parse(kDigest);

TEST(ControlApi, EachRequestReadsBackAsItWasWritten) {
  auto start = parse_start_release(to_json(StartRelease{kRelease, "v1.2.0"}));
  ASSERT_TRUE(start.has_value()) << start.error().message;
  EXPECT_EQ(start->digest.full(), kDigest);
  EXPECT_EQ(start->version, "v1.2.0");

  auto ref = parse_release_ref(to_json(ReleaseRef{kRelease}));
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->digest.full(), kDigest);

  auto finish = parse_finish_rehearsal(to_json(FinishRehearsal{kRelease, true}));
  ASSERT_TRUE(finish.has_value());
  EXPECT_TRUE(finish->abort);

  auto routes = parse_set_routes(to_json(SetRoutes{{{kDigest, 90}, {"sha256:b", 10}}}));
  ASSERT_TRUE(routes.has_value());
  EXPECT_EQ(routes->weights.at(kDigest), 90);
  EXPECT_EQ(routes->weights.at("sha256:b"), 10);

  auto window = parse_window_query(to_json(WindowQuery{60000, ""}));
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(window->window_ms, 60000);
  EXPECT_EQ(window->digest, "");
}

TEST(ControlApi, ABadBodyNamesTheFieldInsteadOfThrowing) {
  // Before one definition, {"digest": 5} reached a json string conversion and came back as a 500.
  auto wrong_type = parse_release_ref(R"({"digest": 5})");
  ASSERT_FALSE(wrong_type.has_value());
  EXPECT_EQ(wrong_type.error().message, "\"digest\" must be a string");

  auto missing = parse_start_release(R"({"version": "v1"})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "body must be JSON with a \"digest\"");

  EXPECT_EQ(parse_release_ref("[1,2]").error().message, "body must be a JSON object");
  EXPECT_EQ(parse_release_ref("not json").error().message, "body must be a JSON object");
  EXPECT_EQ(parse_finish_rehearsal(R"({"digest":"d","abort":"yes"})").error().message,
            "\"abort\" must be true or false");
  EXPECT_EQ(parse_set_routes(R"({"weights":{"d":101}})").error().message,
            "weight of d must be an integer 0..100");
  EXPECT_EQ(parse_set_routes(R"({"weights":[]})").error().message,
            "body must be JSON with \"weights\": {digest: percent}");
  EXPECT_FALSE(parse_window_query(R"({"window_ms":-1})").has_value());
  EXPECT_FALSE(parse_window_query(R"({"window_ms":"60s"})").has_value());
}

TEST(ControlApi, AReleaseMessageWhoseDigestIsNotOneIsRefusedSayingWhy) {
  auto start = parse_start_release(R"({"digest": "sha256:abc", "version": "v1"})");
  ASSERT_FALSE(start.has_value());
  EXPECT_EQ(start.error().code, Code::kInvalidArgument);
  EXPECT_EQ(start.error().message, "\"digest\": digest 'sha256:abc' must have 64 hex digits");
  auto ref = parse_release_ref(R"({"digest": "abc"})");
  ASSERT_FALSE(ref.has_value());
  EXPECT_EQ(ref.error().message, "\"digest\": digest 'abc' does not start with 'sha256:'");
  EXPECT_FALSE(parse_finish_rehearsal(R"({"digest": "d", "abort": true})").has_value());
}

TEST(ControlApi, SlotsRoundTripAndAStatusWithoutSlotsIsRefused) {
  SlotInfo slot{"user", kDigest, "v1", SlotRole::kServing, 40001, 1234, 100, 2, true, 1700000000000, ""};
  nlohmann::json status = {{"environment", "prod"}, {"slots", {slot_to_json(slot)}}};
  auto slots = parse_status_slots(status.dump());
  ASSERT_TRUE(slots.has_value()) << slots.error().message;
  ASSERT_EQ(slots->size(), 1u);
  const SlotInfo& s = slots->front();
  EXPECT_EQ(s.service, "user");
  EXPECT_EQ(s.digest, kDigest);
  EXPECT_EQ(s.role, SlotRole::kServing);
  EXPECT_EQ(s.port, 40001);
  EXPECT_EQ(s.pid, 1234);
  EXPECT_EQ(s.weight, 100);
  EXPECT_EQ(s.restarts, 2);
  EXPECT_TRUE(s.healthy);
  EXPECT_EQ(s.started_at_ms, 1700000000000);

  EXPECT_FALSE(parse_status_slots(R"({"environment":"prod"})").has_value());
  EXPECT_FALSE(parse_slot(R"({"port": 1})").has_value());
  // A role this build does not know (a newer agent) is named, not read as "starting".
  auto newer = parse_slot(R"({"digest": "sha256:00", "role": "hibernating"})");
  ASSERT_FALSE(newer.has_value());
  EXPECT_NE(newer.error().message.find("unknown slot role 'hibernating'"), std::string::npos)
      << newer.error().message;
  EXPECT_FALSE(parse_slot(R"({"digest":"d","port":"x"})").has_value());
  EXPECT_EQ(*parse_swap_ms(R"({"swap_ms": 3})"), 3);
  EXPECT_FALSE(parse_swap_ms("{}").has_value());
}

TEST(ControlApi, ServicePathIsTheAgentsRoute) {
  EXPECT_EQ(service_path("production", "admin", "rehearsal/finish"),
            "/v1/env/production/service/admin/rehearsal/finish");
}

}  // namespace
}  // namespace villager::targets::control_api
