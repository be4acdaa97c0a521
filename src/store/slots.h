#pragma once
// slots: what the local agent runs. One row per release process of a service in an environment, keyed by
// environment + service + digest, so the agent can find its processes again after a restart.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::store {

class Store;

enum class SlotState { kStarting, kServing, kWarm, kStopped };
std::string_view to_string(SlotState state);  // "starting" | "serving" | "warm" | "stopped"
Result<SlotState> parse_slot_state(std::string_view text);

struct Slot {
  std::string environment;
  std::string service;
  std::string digest;
  std::string version;
  int port = 0;
  int64_t pid = 0;             // 0 when no process runs
  int64_t pid_start_time = 0;  // /proc/<pid>/stat starttime: tells our process from a reused pid
  SlotState state = SlotState::kStarting;
  int weight = 0;          // percent of the service's traffic, 0..100
  int64_t updated_at = 0;  // unix ms; set by upsert_slot
};

// Inserts or replaces the slot's row (updated_at = now). InvalidArgument for a weight outside 0..100 or
// a port outside 0..65535.
Status upsert_slot(Store& store, const Slot& slot);
// Forgets a slot; Ok if it did not exist.
Status delete_slot(Store& store, const std::string& environment, const std::string& service,
                   const std::string& digest);
// Slots of one environment ("" = all), ordered by environment, service, then weight (highest first).
Result<std::vector<Slot>> list_slots(Store& store, const std::string& environment = "");

}  // namespace villager::store
