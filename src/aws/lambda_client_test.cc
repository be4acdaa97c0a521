#include "aws/lambda_client.h"

#include <gtest/gtest.h>

namespace villager::aws {
namespace {

TEST(CodeSha256, FromADigestIsWhatLambdaReportsForTheSameBytes) {
  const std::string zip = "PK\x03\x04 not really a zip";
  auto from_digest = code_sha256_from_digest(Digest::of(zip));
  ASSERT_TRUE(from_digest) << from_digest.error().message;
  EXPECT_EQ(*from_digest, code_sha256(zip));
}

TEST(CodeSha256, AnEmptyDigestIsRefused) {
  auto none = code_sha256_from_digest(Digest());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kInvalidArgument);
}

}  // namespace
}  // namespace villager::aws
