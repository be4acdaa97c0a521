#include "aws/s3_client.h"

namespace villager::aws {

Status s3_put_object(AwsClient& client, const std::string& bucket, const std::string& key,
                     std::string_view body) {
  auto r = client.call("PUT", "/" + uri_encode(bucket) + "/" + uri_encode(key, /*keep_slash=*/true),
                       std::string(body), "application/zip");
  if (!r) return r.error().context("uploading s3://" + bucket + "/" + key);
  return Ok();
}

}  // namespace villager::aws
