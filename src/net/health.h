#pragma once
// The one answer to "is this release healthy?", shared by every health loop: the supervisor's check of
// a new slot, the smoke suite's health check, the Lambda target's wait for a new version, and the
// uptime probes of a service that names a `health_body`. A release is healthy when its health path
// answers 200 and, if the service names a body, the body contains it.

#include <string>
#include <string_view>

namespace villager::net {

// "" when healthy; otherwise why not, in the words every health loop reports: "status 503",
// "body lacks \"status\":\"ok\"".
std::string health_failure(int status, std::string_view body, std::string_view expect_body);

}  // namespace villager::net
