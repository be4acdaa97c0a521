#include "targets/target.h"

namespace villager::targets {

namespace {

constexpr std::pair<SlotRole, std::string_view> kRoleNames[] = {{SlotRole::kStarting, "starting"},
                                                                {SlotRole::kServing, "serving"},
                                                                {SlotRole::kWarm, "warm"},
                                                                {SlotRole::kCanary, "canary"},
                                                                {SlotRole::kStopped, "stopped"}};

}  // namespace

std::string_view to_string(SlotRole role) {
  for (const auto& [r, name] : kRoleNames)
    if (r == role) return name;
  return "stopped";
}

Result<SlotRole> parse_slot_role(std::string_view text) {
  for (const auto& [r, name] : kRoleNames)
    if (name == text) return r;
  return InvalidArgument("unknown slot role '" + std::string(text) + "'");
}

}  // namespace villager::targets
