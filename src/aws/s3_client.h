#pragma once
// The few S3 calls villager makes (path-style URLs, signed with S3's SigV4 rules): uploading a package
// too large for a direct UpdateFunctionCode.

#include <string>
#include <string_view>

#include "aws/client.h"

namespace villager::aws {

// PutObject; `client` must be an AwsClient for service "s3".
Status s3_put_object(AwsClient& client, const std::string& bucket, const std::string& key,
                     std::string_view body);

}  // namespace villager::aws
