#include "store/step_kinds.h"

#include <array>
#include <utility>

namespace villager::store {

namespace {

constexpr std::array<std::pair<StepKind, std::string_view>, 13> kNames = {{
    {StepKind::kRehearsal, "rehearsal"},
    {StepKind::kStartCandidate, "start_candidate"},
    {StepKind::kPreTrafficSmoke, "pre_traffic_smoke"},
    {StepKind::kShift, "shift"},
    {StepKind::kPromote, "promote"},
    {StepKind::kPostTrafficSmoke, "post_traffic_smoke"},
    {StepKind::kWatch, "watch"},
    {StepKind::kPostRollbackSmoke, "post_rollback_smoke"},
    {StepKind::kStartPrevious, "start_previous"},
    {StepKind::kRouteSwap, "route_swap"},
    {StepKind::kHold, "hold"},
    {StepKind::kBatch, "batch"},
    {StepKind::kFleetRevert, "fleet_revert"},
}};

}  // namespace

std::string_view step_kind_name(StepKind kind) {
  for (const auto& [k, name] : kNames)
    if (k == kind) return name;
  return "unknown";
}

std::string step_name(StepKind kind, std::string_view arg) {
  std::string out(step_kind_name(kind));
  if (!arg.empty()) out.append(":").append(arg);
  return out;
}

ParsedStep parse_step(std::string_view name) {
  auto colon = name.find(':');
  std::string_view head = name.substr(0, colon);
  ParsedStep p;
  for (const auto& [k, n] : kNames)
    if (n == head) p.kind = k;
  if (colon != std::string_view::npos) p.arg = std::string(name.substr(colon + 1));
  return p;
}

}  // namespace villager::store
