#include "notify/status_update.h"

#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "base/redact.h"
#include "base/strings.h"

namespace villager::notify {

namespace {

std::string cell(std::string s) {
  for (auto& c : s)
    if (c == '|' || c == '\n') c = ' ';
  return s;
}

}  // namespace

std::string status_markdown(const StatusInput& in) {
  std::string md = "## Villager: " + in.headline + "\n\n";
  if (!in.result.empty()) md += "**Result:** " + cell(in.result) + "\n";
  if (!in.smoke.empty()) md += "**Smoke:** " + in.smoke + "\n";
  if (!in.reviews.empty()) md += "**Review:** " + join(in.reviews, ", ") + "\n";
  if (!in.result.empty() || !in.smoke.empty() || !in.reviews.empty()) md += "\n";
  md += "| Environment | Service | Version | Digest |\n|---|---|---|---|\n";
  for (const auto& r : in.rows) {
    std::string version = !r.note.empty() ? r.note : r.version.empty() ? "nothing serves" : r.version;
    md += "| " + r.environment + " | " + r.service + " | " + cell(version) + " | " + short_digest(r.digest) +
          " |\n";
  }
  md += "\n### Open deployment issues\n\n```\n" + issues::format_issue_list(in.open_issues) + "```\n";
  return redact(md);
}

std::string smoke_summary(const std::vector<std::string>& step_details) {
  int passed = 0, total = 0;
  std::vector<std::string> failed;
  for (const auto& d : step_details) {
    auto j = nlohmann::json::parse(d, nullptr, false);
    if (!j.is_object() || !j.contains("smoke") || !j["smoke"].is_object()) continue;
    const auto& checks = j["smoke"].value("checks", nlohmann::json::array());
    for (const auto& c : checks) {
      if (!c.is_object() || c.value("skipped", false)) continue;
      ++total;
      if (c.value("passed", false)) {
        ++passed;
      } else {
        std::string service = c.value("service", "");
        failed.push_back(c.value("name", "?") + (service.empty() ? "" : "/" + service));
      }
    }
  }
  if (total == 0) return "";
  std::string s = std::to_string(passed) + "/" + std::to_string(total) + " checks passed";
  if (!failed.empty()) s += ", failed: " + join(failed, ", ");
  return s;
}

}  // namespace villager::notify
