#include "notify/status_update.h"

#include <gtest/gtest.h>

#include "base/redact.h"
#include "base/strings.h"
#include "notify/event.h"

namespace villager::notify {
namespace {

issues::Issue issue(std::string label, std::string status, std::string title) {
  issues::Issue i;
  i.label = std::move(label);
  i.type = issues::issue_type(i.label);
  i.status = std::move(status);
  i.title = std::move(title);
  return i;
}

TEST(StatusMarkdown, ShowsVersionsResultSmokeReviewAndEndsWithTheIssuesList) {
  StatusInput in;
  in.headline = "deploy production";
  in.result = "deployed";
  in.smoke = "12/12 checks passed";
  in.reviews = {"team/reviews/11/27/v1.2.0__deploy__production-user.md"};
  in.rows = {{"production", "user", "v1.2.0", "sha256:0123456789abcdef0123", ""},
             {"production", "admin", "", "", ""},
             {"explorer", "user", "", "", "unavailable: store locked"}};
  in.open_issues = {issue("Bug-7", "todo", "rollback of admin is slow")};
  std::string md = status_markdown(in);
  EXPECT_NE(md.find("## Villager: deploy production\n"), std::string::npos);
  EXPECT_NE(md.find("**Result:** deployed\n"), std::string::npos);
  EXPECT_NE(md.find("**Smoke:** 12/12 checks passed\n"), std::string::npos);
  EXPECT_NE(md.find("**Review:** team/reviews/11/27/v1.2.0__deploy__production-user.md"), std::string::npos);
  EXPECT_NE(md.find("| production | user | v1.2.0 | sha256:0123456789ab |"), std::string::npos);
  EXPECT_NE(md.find("| production | admin | nothing serves |"), std::string::npos);
  EXPECT_NE(md.find("| explorer | user | unavailable: store locked |"), std::string::npos);
  EXPECT_NE(md.find("Label"), std::string::npos);
  EXPECT_NE(md.find("Bug-7"), std::string::npos);
  EXPECT_TRUE(md.ends_with("Total: 1\n```\n")) << md;
}

TEST(StatusMarkdown, SaysSoWhenNoIssuesAreOpen) {
  StatusInput in;
  in.headline = "status";
  std::string md = status_markdown(in);
  EXPECT_TRUE(md.ends_with("No issues found.\n```\n")) << md;
  EXPECT_EQ(md.find("**Result:**"), std::string::npos);
}

TEST(StatusMarkdown, NeverCarriesASecret) {
  register_secret("hunter2-notify-secret");
  StatusInput in;
  in.headline = "deploy production";
  in.result = "smoke failed: header was hunter2-notify-secret";
  std::string md = status_markdown(in);
  EXPECT_EQ(md.find("hunter2-notify-secret"), std::string::npos);
  PipelineEvent e;
  e.kind = "smoke_failed";
  e.reasons = {"got hunter2-notify-secret"};
  e.trigger = "hunter2-notify-secret";
  EXPECT_EQ(event_json(e).find("hunter2-notify-secret"), std::string::npos);
  clear_secrets_for_test();
}

TEST(SmokeSummary, CountsChecksOfEveryStoredReport) {
  std::vector<std::string> details = {
      R"({"duration_ms": 3})",
      R"({"smoke": {"passed": true, "checks": [{"name": "health", "service": "user", "passed": true},
                                                {"name": "cors", "service": "user", "passed": true, "skipped": true}]}})",
      R"({"smoke": {"passed": false, "checks": [{"name": "auth", "service": "admin", "passed": false}]}})",
      "not json"};
  EXPECT_EQ(smoke_summary(details), "1/2 checks passed, failed: auth/admin");
  EXPECT_EQ(smoke_summary({R"({"weight": 10})"}), "");
}

TEST(SmokeSummary, NamesWaivedFindingsAndWarnsBeforeExpiry) {
  std::vector<std::string> details = {
      R"json({"smoke": {"passed": true, "checks": [{"name": "health", "service": "user", "passed": true},
           {"name": "cors", "service": "user", "passed": true, "waived": true, "failures": [
             {"fingerprint": "fp:0123456789abcdef0123", "waived": {"by": "sec-lead (appsec)",
              "note": "RF-09", "until": "2026-12-06T10:00:00.000Z", "expires_soon": true}}]}]}})json"};
  EXPECT_EQ(
      smoke_summary(details),
      "2/2 checks passed; waived: cors/user fp:0123456789abcdef0123 by sec-lead (appsec) until "
      "2026-12-06T10:00:00.000Z (RF-09); WARNING: waiver expires within 3 days, then the finding blocks "
      "again: cors/user fp:0123456789abcdef0123 at 2026-12-06T10:00:00.000Z");
}

TEST(EventJson, CarriesEveryFieldAndASlackText) {
  PipelineEvent e;
  e.kind = "rolled_back";
  e.environment = "production";
  e.service = "user";
  e.version = "v1.2.0";
  e.digest = "sha256:ab";
  e.actor = "alice";
  e.outcome = "rolled_back";
  e.duration_ms = 1500;
  e.review_path = "r.md";
  e.trigger = "canary at 10%: error_rate";
  std::string j = event_json(e);
  for (const char* want :
       {"\"kind\":\"rolled_back\"", "\"environment\":\"production\"", "\"service\":\"user\"",
        "\"version\":\"v1.2.0\"", "\"digest\":\"sha256:ab\"", "\"actor\":\"alice\"", "\"duration_ms\":1500",
        "\"review_path\":\"r.md\"", "\"trigger\":\"canary at 10%: error_rate\"",
        "\"text\":\"villager: production/user v1.2.0 rolled back"})
    EXPECT_NE(j.find(want), std::string::npos) << want << " in " << j;
  EXPECT_TRUE(is_failure_kind(kRolledBack));
  EXPECT_FALSE(is_failure_kind(kDeployed));
}

}  // namespace
}  // namespace villager::notify
