#pragma once
// CloudWatch Logs (JSON 1.1 API) over a signed AwsClient for service "logs": reading a function's log
// events for the smoke suite's plaintext scan (`/aws/lambda/{function}`).

#include <cstdint>
#include <string>
#include <vector>

#include "aws/client.h"

namespace villager::aws {

// One log event: the stream it was written to, its timestamp (ms since the epoch) and its message.
struct LogEvent {
  std::string stream;
  int64_t timestamp_ms = 0;
  std::string message;
};

// FilterLogEvents on `group` between the two times (milliseconds since the epoch), following nextToken;
// at most `max_events` events, oldest first, each with its stream name.
Result<std::vector<LogEvent>> filter_log_event_records(AwsClient& client, const std::string& group,
                                                       int64_t start_ms, int64_t end_ms,
                                                       size_t max_events = 100000);

// FilterLogEvents on `group` between the two times (milliseconds since the epoch), following nextToken;
// at most `max_events` messages, oldest first.
Result<std::vector<std::string>> filter_log_events(AwsClient& client, const std::string& group,
                                                   int64_t start_ms, int64_t end_ms,
                                                   size_t max_events = 100000);

}  // namespace villager::aws
