#pragma once
// FakeTarget: an in-memory Target for pipeline tests. It keeps slots and weights like the local agent
// does, records every call in order, and fails on demand (a candidate that never becomes healthy, a
// weight change that is refused).

#include <map>
#include <set>
#include <string>
#include <vector>

#include "targets/target.h"

namespace villager {

class FakeTarget : public targets::Target {
 public:
  std::string kind() const override { return "fake"; }
  Result<targets::SlotInfo> start_candidate(const std::string& service, const std::string& digest,
                                            const std::string& version) override;
  Status set_weights(const std::string& service, const std::map<std::string, int>& weights) override;
  Status promote(const std::string& service, const std::string& digest) override;
  Status stop(const std::string& service, const std::string& digest) override;
  Result<std::vector<targets::SlotInfo>> slots() override;
  std::string public_url(const std::string& service) const override { return "http://public/" + service; }
  std::string slot_url(const targets::SlotInfo& s) const override {
    return "http://slot:" + std::to_string(s.port);
  }

  // The weight a digest of a service has now (0 when absent).
  int weight(const std::string& service, const std::string& digest) const;
  std::string serving(const std::string& service) const;

  std::set<std::string> unhealthy;  // digests whose start fails
  std::vector<std::string> calls;   // "start user sha256:..", "weights user {..}", ...

 private:
  std::map<std::pair<std::string, std::string>, targets::SlotInfo> slots_;  // (service, digest)
  int next_port_ = 20000;
};

}  // namespace villager
