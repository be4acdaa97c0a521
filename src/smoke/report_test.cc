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

namespace {
// cors/user with two findings: one waived by appsec, one not; cors/admin with its only finding waived.
SmokeReport waived_sample() {
  SmokeReport r;
  r.passed = false;
  Waived w{"sec-lead (appsec)", "RF-09, fix in v0.4", from_unix_millis(1'800'000'000'000), true};
  CheckResult user("cors", "user");
  user.passed = false;
  auto finding = [](std::string what, std::string fp) {
    Failure f(std::move(what), "no Access-Control-Allow-Origin",
              "Access-Control-Allow-Origin: https://evil.example");
    f.fingerprint = std::move(fp);
    return f;
  };
  user.failures.push_back(
      finding("OPTIONS /api/transfers/create (preflight from foreign https://evil.example)",
              "fp:aaaaaaaaaaaaaaaaaaaa"));
  user.failures.back().waived = w;
  user.failures.push_back(finding("GET /info/health (simple request from foreign https://evil.example)",
                                  "fp:bbbbbbbbbbbbbbbbbbbb"));
  user.failures.back().waiver_refused = {"expired: w.json: expired at then"};
  CheckResult admin("cors", "admin");
  admin.waived = true;
  admin.failures.push_back(finding("OPTIONS /tokens/list (preflight from foreign https://evil.example)",
                                   "fp:cccccccccccccccccccc"));
  admin.failures.back().waived = w;
  r.checks = {user, admin};
  return r;
}
}  // namespace

TEST(Report, JsonNamesEachFindingsFingerprintAndWaiver) {
  auto j = nlohmann::json::parse(to_json(waived_sample()));
  const auto& user = j["checks"][0];
  EXPECT_EQ(user["waived"], false);
  EXPECT_EQ(user["failures"][0]["fingerprint"], "fp:aaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(user["failures"][0]["waived"]["by"], "sec-lead (appsec)");
  EXPECT_EQ(user["failures"][0]["waived"]["note"], "RF-09, fix in v0.4");
  EXPECT_EQ(user["failures"][0]["waived"]["until"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(user["failures"][0]["waived"]["expires_soon"], true);
  EXPECT_FALSE(user["failures"][1].contains("waived"));
  EXPECT_EQ(user["failures"][1]["waiver_refused"][0], "expired: w.json: expired at then");
  EXPECT_EQ(j["checks"][1]["waived"], true);
  EXPECT_EQ(j["checks"][1]["passed"], true);
}

TEST(Report, JunitSkipsAWaivedCheckWithTheReason) {
  std::string x = to_junit(waived_sample());
  EXPECT_NE(x.find("failures=\"1\" skipped=\"1\""), std::string::npos) << x;
  EXPECT_NE(x.find("<skipped message=\"fp:cccccccccccccccccccc waived by sec-lead (appsec) until "
                   "2027-01-15T08:00:00.000Z: RF-09, fix in v0.4 (expires soon)\"/>"),
            std::string::npos)
      << x;
  // The partly waived check fails on its open finding.
  EXPECT_NE(x.find("<failure message=\"GET /info/health (simple request"), std::string::npos) << x;
}

TEST(Report, HumanPrintsFingerprintsAndWaivers) {
  std::ostringstream out;
  print_human(waived_sample(), out, false);
  std::string s = out.str();
  EXPECT_NE(
      s.find("FAIL cors user 0.0ms: GET /info/health (simple request from foreign https://evil.example): "
             "expected no Access-Control-Allow-Origin, got Access-Control-Allow-Origin: "
             "https://evil.example [fp:bbbbbbbbbbbbbbbbbbbb]\n"
             "       waiver refused: expired: w.json: expired at then\n"),
      std::string::npos)
      << s;
  EXPECT_NE(s.find("[fp:aaaaaaaaaaaaaaaaaaaa] waived by sec-lead (appsec) until 2027-01-15T08:00:00.000Z"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("waiv cors admin 0.0ms: 1 waived finding(s)\n"), std::string::npos) << s;
}

TEST(Fingerprint, IgnoresWhereTheFindingWasSeen) {
  Failure f("OPTIONS http://127.0.0.1:9080/api/transfers/create (preflight)", "no ACAO", "ACAO: *");
  Failure slot = f;
  slot.what = "OPTIONS http://127.0.0.1:41234/api/transfers/create (preflight)";
  auto a = finding_fingerprint("cors", "user", "http://127.0.0.1:9080", f);
  EXPECT_EQ(a.size(), 23u);
  EXPECT_EQ(a.substr(0, 3), "fp:");
  EXPECT_EQ(a, finding_fingerprint("cors", "user", "http://127.0.0.1:41234", slot));
  EXPECT_NE(a, finding_fingerprint("cors", "admin", "http://127.0.0.1:9080", f));
  EXPECT_NE(a, finding_fingerprint("auth", "user", "http://127.0.0.1:9080", f));
  Failure changed = f;
  changed.actual = "ACAO: https://evil.example";
  EXPECT_NE(a, finding_fingerprint("cors", "user", "http://127.0.0.1:9080", changed));
}

}  // namespace villager::smoke
