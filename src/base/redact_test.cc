#include "base/redact.h"

#include <gtest/gtest.h>

#include "base/log.h"
#include "base/strings.h"

namespace villager {

TEST(Redact, MasksRawHexAndBase64Forms) {
  clear_secrets_for_test();
  Secret s("hunter2-top-secret");
  std::string text = "raw=hunter2-top-secret hex=" + hex_encode("hunter2-top-secret") +
                     " b64=" + base64_encode("hunter2-top-secret") +
                     " url=" + base64url_encode("hunter2-top-secret");
  std::string out = redact(text);
  EXPECT_EQ(out, "raw=*** hex=*** b64=*** url=***");
  EXPECT_EQ(s.masked(), "***");
  clear_secrets_for_test();
}

TEST(Redact, LogLinesAreRedacted) {
  clear_secrets_for_test();
  register_secret("sk-live-abcdef");
  std::string line = format_log_line(LogLevel::kInfo, "test", "event", {{"token", "sk-live-abcdef"}});
  EXPECT_EQ(line.find("sk-live-abcdef"), std::string::npos) << line;
  EXPECT_NE(line.find("token=***"), std::string::npos) << line;
  clear_secrets_for_test();
}

TEST(Redact, IgnoresTooShortValues) {
  clear_secrets_for_test();
  register_secret("ab");
  EXPECT_EQ(redact("abcab"), "abcab");
}

}  // namespace villager
