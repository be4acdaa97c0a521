#pragma once
// CloudWatch Logs (JSON 1.1 API) over a signed AwsClient for service "logs": reading a function's log
// events for the smoke suite's plaintext scan (`/aws/lambda/{function}`).

#include <cstdint>
#include <string>
#include <vector>

#include "aws/client.h"

namespace villager::aws {

// FilterLogEvents on `group` between the two times (milliseconds since the epoch), following nextToken;
// at most `max_events` messages, oldest first.
Result<std::vector<std::string>> filter_log_events(AwsClient& client, const std::string& group,
                                                   int64_t start_ms, int64_t end_ms,
                                                   size_t max_events = 100000);

}  // namespace villager::aws
