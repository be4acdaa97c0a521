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
  std::vector<std::string> failed, waived, expiring;
  for (const auto& d : step_details) {
    auto j = nlohmann::json::parse(d, nullptr, false);
    if (!j.is_object() || !j.contains("smoke") || !j["smoke"].is_object()) continue;
    const auto& checks = j["smoke"].value("checks", nlohmann::json::array());
    for (const auto& c : checks) {
      if (!c.is_object() || c.value("skipped", false)) continue;
      ++total;
      std::string service = c.value("service", "");
      std::string name = c.value("name", "?") + (service.empty() ? "" : "/" + service);
      if (c.value("passed", false))
        ++passed;
      else
        failed.push_back(name);
      // Waived findings are still findings: each is named with who waived it and until when.
      for (const auto& f : c.value("failures", nlohmann::json::array())) {
        if (!f.is_object() || !f.contains("waived") || !f["waived"].is_object()) continue;
        const auto& w = f["waived"];
        std::string until = w.value("until", "");
        waived.push_back(name + " " + f.value("fingerprint", "") + " by " + w.value("by", "") + " until " +
                         until + (w.value("note", "").empty() ? "" : " (" + w.value("note", "") + ")"));
        if (w.value("expires_soon", false))
          expiring.push_back(name + " " + f.value("fingerprint", "") + " at " + until);
      }
    }
  }
  if (total == 0) return "";
  std::string s = std::to_string(passed) + "/" + std::to_string(total) + " checks passed";
  if (!failed.empty()) s += ", failed: " + join(failed, ", ");
  if (!waived.empty()) s += "; waived: " + join(waived, "; ");
  if (!expiring.empty())
    s += "; WARNING: waiver expires within 3 days, then the finding blocks again: " + join(expiring, "; ");
  return s;
}

}  // namespace villager::notify
