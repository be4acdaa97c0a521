#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "base/redact.h"
#include "smoke/smoke.h"

namespace villager::smoke {

namespace {
SmokeReport sample() {
  SmokeReport r;
  r.passed = false;
  r.duration = std::chrono::microseconds(12'345);
  CheckResult ok("health", "user");
  ok.duration = std::chrono::microseconds(2'000);
  CheckResult bad("auth", "admin");
  bad.passed = false;
  bad.failures.push_back({"GET http://h/tokens/list (wrong x-api-key)", "status 401", "status 200 <b>&"});
  bad.failures.push_back({"GET http://h/x?key=report-secret-value", "status 401", "status 200"});
  CheckResult skip("plaintext", "");
  skip.skipped = true;
  skip.notes.push_back("not applicable");
  r.checks = {ok, bad, skip};
  return r;
}
}  // namespace

TEST(Report, JsonFollowsTheSchemaAndMasksSecrets) {
  register_secret("report-secret-value");
  auto j = nlohmann::json::parse(to_json(sample()));
  EXPECT_EQ(j["passed"], false);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12.345);
  ASSERT_EQ(j["checks"].size(), 3u);
  EXPECT_EQ(j["checks"][0]["name"], "health");
  EXPECT_EQ(j["checks"][0]["service"], "user");
  EXPECT_EQ(j["checks"][0]["passed"], true);
  EXPECT_DOUBLE_EQ(j["checks"][0]["duration_ms"].get<double>(), 2.0);
  EXPECT_EQ(j["checks"][1]["failures"][0]["expected"], "status 401");
  EXPECT_EQ(j["checks"][1]["failures"][0]["actual"], "status 200 <b>&");
  EXPECT_EQ(j["checks"][1]["failures"][1]["what"], "GET http://h/x?key=***");
  EXPECT_EQ(j["checks"][2]["skipped"], true);
  clear_secrets_for_test();
}

TEST(Report, JunitHasOneTestcasePerCheck) {
  register_secret("report-secret-value");
  std::string x = to_junit(sample());
  EXPECT_NE(x.find("<testsuite name=\"smoke\" tests=\"3\" failures=\"1\" skipped=\"1\""), std::string::npos)
      << x;
  EXPECT_NE(x.find("<testcase classname=\"smoke.user\" name=\"health\" time=\"0.002\"/>"), std::string::npos)
      << x;
  EXPECT_NE(
      x.find("<failure message=\"GET http://h/tokens/list (wrong x-api-key): expected status 401, got status "
             "200 &lt;b&gt;&amp;\""),
      std::string::npos)
      << x;
  EXPECT_NE(x.find("<skipped message=\"not applicable\"/>"), std::string::npos);
  EXPECT_EQ(x.find("report-secret-value"), std::string::npos);
  clear_secrets_for_test();
}

TEST(Report, HumanIsOneLinePerCheckWithReason) {
  register_secret("report-secret-value");
  std::ostringstream out;
  print_human(sample(), out, false);
  EXPECT_EQ(out.str(),
            "ok   health user 2.0ms\n"
            "FAIL auth admin 0.0ms: GET http://h/tokens/list (wrong x-api-key): expected status 401, got "
            "status 200 <b>&\n"
            "       GET http://h/x?key=***: expected status 401, got status 200\n"
            "skip plaintext 0.0ms: not applicable\n"
            "FAILED: 2/3 checks in 12ms\n");
  clear_secrets_for_test();
}

}  // namespace villager::smoke
