#include "cli/outcome_output.h"

#include <iostream>

#include "base/hash.h"
#include "base/redact.h"
#include "cli/command.h"

namespace villager::cli {

using json = nlohmann::json;

int print_change_outcome(const std::string& env, int exit_code, const std::string& message,
                         const std::vector<pipeline::ServiceResult>& services, bool as_json,
                         const json& extra) {
  if (as_json) {
    json list = json::array();
    for (const auto& s : services)
      list.push_back({{"service", s.service},
                      {"version", s.version},
                      {"digest", s.digest},
                      {"deployment_id", s.deployment_id},
                      {"status", s.status}});
    json out = {{"environment", env}, {"exit_code", exit_code}, {"message", message}, {"services", list}};
    out.update(extra);
    std::cout << redact(out.dump(2)) << "\n";
    return exit_code;
  }
  for (const auto& s : services)
    std::cout << env << "/" << s.service << "  " << s.version << "  " << short_digest(s.digest) << "  "
              << s.status << "\n";
  if (exit_code != 0)
    report_error(message, exit_code);
  else
    std::cout << message << "\n";
  return exit_code;
}

}  // namespace villager::cli
