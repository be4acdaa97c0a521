#include "smoke/canary_scan.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/strings.h"
#include "net/url.h"
#include "testutil/temp_dir.h"

namespace villager::smoke {

namespace {
bool has_form(const std::vector<EncodedForm>& forms, const std::string& bytes) {
  for (const auto& f : forms)
    if (f.bytes == bytes) return true;
  return false;
}
}  // namespace

TEST(CanaryScan, EncodedFormsCoverEveryEncoding) {
  std::string key = "\x01\xfe key/with+chars=";
  auto forms = encoded_forms(key);
  EXPECT_TRUE(has_form(forms, key));
  EXPECT_TRUE(has_form(forms, hex_encode(key)));
  EXPECT_TRUE(has_form(forms, base64_encode(key)));
  EXPECT_TRUE(has_form(forms, base64url_encode(key)));
  EXPECT_TRUE(has_form(forms, net::percent_encode(key)));
  EXPECT_TRUE(has_form(forms, "\\u0001\xfe key/with+chars="));  // JSON escaping
  // No duplicates, and nothing short enough to match by chance.
  for (size_t i = 0; i < forms.size(); ++i) {
    EXPECT_GE(forms[i].bytes.size(), 4u);
    for (size_t j = i + 1; j < forms.size(); ++j) EXPECT_NE(forms[i].bytes, forms[j].bytes);
  }
  EXPECT_TRUE(encoded_forms("ab").empty());
}

TEST(CanaryScan, ReportsFileOffsetFormAndMaskedValue) {
  TempDir dir;
  const std::string token = "tok-1234567890-secret";
  const std::string ip = "203.0.113.7";
  ASSERT_TRUE(ensure_dir(dir / "logs").ok());
  ASSERT_TRUE(
      write_file_atomic(dir / "logs/access.log", "GET /x 200\nheaders: x-token=" + token + "\n").ok());
  ASSERT_TRUE(write_file_atomic(dir / "logs/b64.log", "abc " + base64_encode(token)).ok());
  ASSERT_TRUE(
      write_file_atomic(dir / "meta.json", "{\"ip\":\"" + ip + "\",\"hash\":\"" + hex_encode(ip) + "\"}")
          .ok());
  ASSERT_TRUE(write_file_atomic(dir / "clean.txt", "nothing here").ok());

  auto s = scan_for_canaries({dir / "logs", dir / "meta.json", dir / "clean.txt", dir / "absent"},
                             {{"access token", token}, {"spoofed client IP", ip}});
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->files, 4u);
  EXPECT_EQ(s->missing, (std::vector<std::string>{(dir / "absent").string()}));
  ASSERT_EQ(s->hits.size(), 4u);
  EXPECT_EQ(s->hits[0].file, (dir / "logs/access.log").string());
  EXPECT_EQ(s->hits[0].offset, 28u);
  EXPECT_EQ(s->hits[0].form, "raw");
  EXPECT_EQ(s->hits[0].masked, "to***");
  EXPECT_EQ(s->hits[1].file, (dir / "logs/b64.log").string());
  EXPECT_EQ(s->hits[1].offset, 4u);
  EXPECT_EQ(s->hits[1].form, "base64");
  EXPECT_EQ(s->hits[2].canary, "spoofed client IP");
  EXPECT_EQ(s->hits[2].offset, 7u);
  EXPECT_EQ(s->hits[2].masked, "***");  // short values are masked whole
  EXPECT_EQ(s->hits[3].form, "hex");
  // The masked value never carries the secret.
  for (const auto& h : s->hits) EXPECT_EQ(h.masked.find(token), std::string::npos);
}

TEST(CanaryScan, RemoteSourcesReportTheirNameAndOffset) {
  const std::string token = "tok-1234567890-secret";
  std::vector<ScanSource> sources = {
      {"s3://bucket/transfers/ab/abcd/meta.json", "{\"note\":\"" + hex_encode(token) + "\"}"},
      {"logs:/aws/lambda/fn/2026/11/27/[$LATEST]0001", "START RequestId: 1\nx-token: " + token + "\n"},
      {"s3://bucket/transfers/ab/abcd/payload", "\x01\x02 ciphertext"},
  };
  auto s = scan_sources_for_canaries(sources, {{"access token", token}});
  EXPECT_EQ(s.files, 3u);
  EXPECT_TRUE(s.missing.empty());
  ASSERT_EQ(s.hits.size(), 2u);
  EXPECT_EQ(s.hits[0].file, "s3://bucket/transfers/ab/abcd/meta.json");
  EXPECT_EQ(s.hits[0].offset, 9u);
  EXPECT_EQ(s.hits[0].form, "hex");
  EXPECT_EQ(s.hits[1].file, "logs:/aws/lambda/fn/2026/11/27/[$LATEST]0001");
  EXPECT_EQ(s.hits[1].offset, 28u);
  EXPECT_EQ(s.hits[1].form, "raw");
  EXPECT_TRUE(scan_sources_for_canaries(sources, {{"marker", "villager-marker-0"}}).hits.empty());
}

TEST(CanaryScan, FindsEveryOccurrenceInOneFile) {
  TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "a.log", "markerXmarkerYmarker").ok());
  auto s = scan_for_canaries({dir.path()}, {{"marker", "marker"}});
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->hits.size(), 3u);
  EXPECT_EQ(s->hits[0].offset, 0u);
  EXPECT_EQ(s->hits[1].offset, 7u);
  EXPECT_EQ(s->hits[2].offset, 14u);
}

TEST(CanaryScan, MaskValue) {
  EXPECT_EQ(mask_value("short"), "***");
  EXPECT_EQ(mask_value("a-long-enough-value"), "a-***");
  EXPECT_EQ(mask_value(std::string("\x01\x02long binary value", 19)), "??***");
}

}  // namespace villager::smoke
