#pragma once
// The few S3 calls villager makes (path-style URLs, signed with S3's SigV4 rules): uploading a package too
// large for a direct UpdateFunctionCode, and reading stored objects for the smoke suite's plaintext scan.

#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"

namespace villager::aws {

// PutObject; `client` must be an AwsClient for service "s3".
Status s3_put_object(AwsClient& client, const std::string& bucket, const std::string& key,
                     std::string_view body);
// ListObjectsV2 under `prefix`, following continuation tokens; at most `max_keys` keys.
Result<std::vector<std::string>> s3_list_keys(AwsClient& client, const std::string& bucket,
                                              const std::string& prefix, size_t max_keys = 100000);
// GetObject: the object's bytes.
Result<std::string> s3_get_object(AwsClient& client, const std::string& bucket, const std::string& key);

}  // namespace villager::aws
