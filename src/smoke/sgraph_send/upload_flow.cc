// The sgraph-send profile's default browser steps: today's upload page flow, worded as it always was.

#include "smoke/sgraph_send/profile.h"

namespace villager::smoke::sgraph_send {

std::vector<config::BrowserStep> upload_flow_steps(const config::SmokeBrowserConfig& b) {
  using A = config::BrowserStep::Action;
  std::vector<config::BrowserStep> steps;
  steps.push_back({A::kWaitFor, b.file_input, "", "", "a page with a file input " + b.file_input});
  for (const auto& [selector, value] : b.fill) steps.push_back({A::kFill, selector, value, "", ""});
  steps.push_back({A::kUpload, b.file_input, "", "", "a file input " + b.file_input});
  steps.push_back({A::kClick, b.submit, "", "", "a submit control " + b.submit});
  steps.push_back({A::kWaitFor, b.result, "", "href", "a result link " + b.result});
  steps.push_back({A::kNeverSent, "", "marker", "", ""});
  steps.push_back({A::kNeverSent, "", "fragment_key", "", ""});
  if (!b.download.empty())
    steps.push_back(
        {A::kDownload, b.download, "", "", "the result link's page with a control " + b.download});
  return steps;
}

}  // namespace villager::smoke::sgraph_send
