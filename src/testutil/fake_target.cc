#include "testutil/fake_target.h"

namespace villager {

Result<targets::SlotInfo> FakeTarget::start_candidate(const std::string& service, const std::string& digest,
                                                      const std::string& version) {
  calls.push_back("start " + service + " " + digest);
  if (unhealthy.count(digest)) return Unavailable("release " + digest + " did not become healthy");
  auto& s = slots_[{service, digest}];
  s.service = service;
  s.digest = digest;
  s.version = version;
  s.role = targets::SlotRole::kStarting;
  s.port = next_port_++;
  s.healthy = true;
  return s;
}

Status FakeTarget::set_weights(const std::string& service, const std::map<std::string, int>& weights) {
  std::string text;
  for (const auto& [d, w] : weights) text += (text.empty() ? "" : ",") + d + "=" + std::to_string(w);
  calls.push_back("weights " + service + " " + text);
  for (const auto& [d, w] : weights)
    if (w > 0 && !slots_.count({service, d})) return NotFound("no slot " + d);
  for (auto& [k, s] : slots_)
    if (k.first == service) s.weight = weights.count(k.second) ? weights.at(k.second) : 0;
  return Ok();
}

Status FakeTarget::promote(const std::string& service, const std::string& digest) {
  calls.push_back("promote " + service + " " + digest);
  if (!slots_.count({service, digest})) return NotFound("no slot " + digest);
  std::vector<std::string> older;
  for (auto& [k, s] : slots_) {
    if (k.first != service) continue;
    if (k.second == digest) {
      s.role = targets::SlotRole::kServing;
      s.weight = 100;
    } else if (s.role == targets::SlotRole::kServing) {
      s.role = targets::SlotRole::kWarm;
      s.weight = 0;
    } else {
      older.push_back(k.second);
    }
  }
  for (const auto& d : older) slots_.erase({service, d});
  return Ok();
}

Status FakeTarget::stop(const std::string& service, const std::string& digest) {
  calls.push_back("stop " + service + " " + digest);
  slots_.erase({service, digest});
  return Ok();
}

Result<std::vector<targets::SlotInfo>> FakeTarget::slots() {
  std::vector<targets::SlotInfo> out;
  for (const auto& [_, s] : slots_) out.push_back(s);
  return out;
}

int FakeTarget::weight(const std::string& service, const std::string& digest) const {
  auto it = slots_.find({service, digest});
  return it == slots_.end() ? 0 : it->second.weight;
}

std::string FakeTarget::serving(const std::string& service) const {
  for (const auto& [k, s] : slots_)
    if (k.first == service && s.role == targets::SlotRole::kServing) return k.second;
  return "";
}

}  // namespace villager
