#pragma once
// The agent's control API messages: what the local target (and the CLI's monitor hooks) send and the
// agent reads, one definition for both sides. Each body is JSON; each parser names the field that is
// missing or of the wrong type (or a "digest" that is not one), and the agent answers that message with
// 400. The release messages carry a Digest, spelled "sha256:<hex>" on the wire. Paths are
// /v1/env/{env}/service/{service}/{action} (service_path), served by agent/control_routes.cc.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/hash.h"
#include "targets/target.h"

namespace villager::targets::control_api {

// POST .../start and .../rehearsal/start: run this release in a new slot.
struct StartRelease {
  Digest digest;
  std::string version{};
};
// POST .../promote and .../stop.
struct ReleaseRef {
  Digest digest;
};
// POST .../rehearsal/finish: swap to the spare and back, or (abort) just stop the spare.
struct FinishRehearsal {
  Digest digest;
  bool abort = false;
};
// POST .../routes: each release's share of traffic in percent (0..100).
struct SetRoutes {
  std::map<std::string, int> weights;
};
// POST .../window: request counts of one release ("" = every release) over the last window_ms.
struct WindowQuery {
  int64_t window_ms = 0;
  std::string digest{};
};

std::string to_json(const StartRelease& m);
std::string to_json(const ReleaseRef& m);
std::string to_json(const FinishRehearsal& m);
std::string to_json(const SetRoutes& m);
std::string to_json(const WindowQuery& m);

Result<StartRelease> parse_start_release(const std::string& body);
Result<ReleaseRef> parse_release_ref(const std::string& body);
Result<FinishRehearsal> parse_finish_rehearsal(const std::string& body);
Result<SetRoutes> parse_set_routes(const std::string& body);
Result<WindowQuery> parse_window_query(const std::string& body);

// A slot as the agent reports it (the answer to start, and each entry of status's "slots").
nlohmann::json slot_to_json(const SlotInfo& slot);
Result<SlotInfo> parse_slot(const std::string& body);
// GET /v1/env/{env}/status: the slots of that environment.
Result<std::vector<SlotInfo>> parse_status_slots(const std::string& body);

// The rehearsal's answer carries the measured swap time.
Result<int64_t> parse_swap_ms(const std::string& body);

std::string service_path(const std::string& env, const std::string& service, const std::string& action);

}  // namespace villager::targets::control_api
