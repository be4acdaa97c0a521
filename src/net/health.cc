#include "net/health.h"

namespace villager::net {

std::string health_failure(int status, std::string_view body, std::string_view expect_body) {
  if (status != 200) return "status " + std::to_string(status);
  if (!expect_body.empty() && body.find(expect_body) == std::string_view::npos)
    return "body lacks " + std::string(expect_body);
  return "";
}

}  // namespace villager::net
