#pragma once
// The status update posted after each deploy and rollback and printed by `villager status --markdown`:
// a short markdown message (what each environment serves, the result, the smoke summary, the review
// documents) that ends with the open deployment issues as `issues-fs list` prints them. Pure: the same
// input gives the same bytes; the text passes through redact().

#include <cstdint>
#include <string>
#include <vector>

#include "issues/issues.h"

namespace villager::notify {

struct StatusRow {
  std::string environment;
  std::string service;
  std::string version;  // "" when nothing serves
  std::string digest;
  std::string note;  // "unavailable: ..." when the environment could not be read
};

struct StatusInput {
  std::string headline;              // "deploy production: deployed" / "status"
  std::string result;                // the outcome message; "" on demand
  std::string smoke;                 // "12/12 checks passed"; "" when no smoke ran
  std::vector<std::string> reviews;  // review document paths
  std::vector<StatusRow> rows;
  std::vector<issues::Issue> open_issues;
};

std::string status_markdown(const StatusInput& input);

// "N/M checks passed" (or "N/M checks passed, failed: a, b"; then each waived finding with who and until
// when, and a warning for waivers that expire within 3 days) from smoke reports as stored with steps
// ({"smoke": {"checks": [{"name", "service", "passed"}]}}); "" when none holds a smoke report.
std::string smoke_summary(const std::vector<std::string>& step_details);

}  // namespace villager::notify
