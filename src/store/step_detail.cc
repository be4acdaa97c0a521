#include "store/step_detail.h"

namespace villager::store {

namespace {

using json = nlohmann::json;

// The value a field holds: T, or T inside an optional (set only when the key is there).
template <class T>
struct ValueOf {
  using type = T;
};
template <class T>
struct ValueOf<std::optional<T>> {
  using type = T;
};

// Moves j[key] into `out` when it has the type `ok` accepts; otherwise it stays in `rest`.
template <class T, class Ok>
void take(json& rest, const char* key, Ok ok, T& out) {
  auto it = rest.find(key);
  if (it == rest.end() || !ok(*it)) return;
  out = it->template get<typename ValueOf<T>::type>();
  rest.erase(it);
}

void take_json(json& rest, const char* key, json& out) {
  auto it = rest.find(key);
  if (it == rest.end()) return;
  out = std::move(*it);
  rest.erase(it);
}

bool is_string(const json& j) {
  return j.is_string();
}
bool is_int(const json& j) {
  return j.is_number_integer();
}
bool is_bool(const json& j) {
  return j.is_boolean();
}
bool is_number(const json& j) {
  return j.is_number();
}
bool is_strings(const json& j) {
  if (!j.is_array()) return false;
  for (const auto& e : j)
    if (!e.is_string()) return false;
  return true;
}

// The judge's own keys: present together, or the row holds no analysis.
constexpr const char* kCanaryKeys[] = {
    "verdict", "baseline_requests", "candidate_requests", "min_samples", "alpha", "metrics", "summary"};

// A field of the type asked for, else `fallback`: a value JSON cannot hold (NaN) is written as null.
double number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}
bool flag(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<MetricJudgement> metric_from_json(const json& m) {
  if (!m.is_object()) return std::nullopt;
  MetricJudgement out;
  out.metric = text(m, "metric");
  out.baseline = number(m, "baseline");
  out.candidate = number(m, "candidate");
  out.limit = number(m, "limit");
  out.breached = flag(m, "breached");
  out.tested = flag(m, "tested");
  if (auto z = m.find("z"); z != m.end() && z->is_number()) out.z = z->get<double>();
  if (auto p = m.find("p"); p != m.end() && p->is_number()) out.p = p->get<double>();
  out.verdict = text(m, "verdict");
  out.rule = text(m, "rule");
  return out;
}

// The analysis when every judge key is there with its type; the keys leave `rest` only then.
std::optional<CanaryAnalysis> take_canary(json& rest) {
  for (const char* k : kCanaryKeys)
    if (!rest.contains(k)) return std::nullopt;
  if (!rest["verdict"].is_string() || !rest["summary"].is_string() || !rest["metrics"].is_array() ||
      !rest["alpha"].is_number() || !rest["baseline_requests"].is_number_unsigned() ||
      !rest["candidate_requests"].is_number_unsigned() || !rest["min_samples"].is_number_unsigned())
    return std::nullopt;
  CanaryAnalysis a;
  for (const auto& m : rest["metrics"]) {
    auto one = metric_from_json(m);
    if (!one) return std::nullopt;
    a.metrics.push_back(std::move(*one));
  }
  a.verdict = rest["verdict"].get<std::string>();
  a.summary = rest["summary"].get<std::string>();
  a.alpha = rest["alpha"].get<double>();
  a.baseline_requests = rest["baseline_requests"].get<uint64_t>();
  a.candidate_requests = rest["candidate_requests"].get<uint64_t>();
  a.min_samples = rest["min_samples"].get<uint64_t>();
  for (const char* k : kCanaryKeys) rest.erase(k);
  return a;
}

}  // namespace

json to_json(const CanaryAnalysis& a) {
  json metrics = json::array();
  for (const auto& m : a.metrics) {
    json j = {{"metric", m.metric},   {"baseline", m.baseline}, {"candidate", m.candidate},
              {"limit", m.limit},     {"breached", m.breached}, {"tested", m.tested},
              {"verdict", m.verdict}, {"rule", m.rule}};
    if (m.z) j["z"] = *m.z;
    if (m.p) j["p"] = *m.p;
    metrics.push_back(std::move(j));
  }
  return {{"verdict", a.verdict},
          {"baseline_requests", a.baseline_requests},
          {"candidate_requests", a.candidate_requests},
          {"min_samples", a.min_samples},
          {"alpha", a.alpha},
          {"metrics", metrics},
          {"summary", a.summary}};
}

json StepDetail::to_json() const {
  json j = other.is_object() ? other : json::object();
  if (weight) j["weight"] = *weight;
  if (!reason.empty()) j["reason"] = reason;
  if (batch) j["batch"] = *batch;
  if (of) j["of"] = *of;
  if (canary)
    j.update(store::to_json(*canary));
  else if (!metrics.is_null())
    j["metrics"] = metrics;
  if (!sides.is_null()) j["sides"] = sides;
  if (!synthetic.is_null()) j["synthetic"] = synthetic;
  if (!smoke.is_null()) j["smoke"] = smoke;
  if (alarms) j["alarms"] = *alarms;
  if (swap_ms) j["swap_ms"] = *swap_ms;
  if (!previous.empty()) j["previous"] = previous;
  if (warm) j["warm"] = *warm;
  if (!hosts.is_null()) j["hosts"] = hosts;
  if (!fleet.is_null()) j["fleet"] = fleet;
  if (unread) j["unread"] = *unread;
  if (duration_ms) j["duration_ms"] = *duration_ms;
  if (!error.empty()) j["error"] = error;
  return j;
}

StepDetail step_detail_from_json(const json& j) {
  StepDetail d;
  if (!j.is_object()) return d;
  json rest = j;
  take(rest, "weight", is_int, d.weight);
  take(rest, "reason", is_string, d.reason);
  take(rest, "batch", is_int, d.batch);
  take(rest, "of", is_int, d.of);
  d.canary = take_canary(rest);
  take_json(rest, "metrics", d.metrics);
  take_json(rest, "sides", d.sides);
  take_json(rest, "synthetic", d.synthetic);
  take_json(rest, "smoke", d.smoke);
  take(rest, "alarms", is_strings, d.alarms);
  take(rest, "swap_ms", is_int, d.swap_ms);
  take(rest, "previous", is_string, d.previous);
  take(rest, "warm", is_bool, d.warm);
  take_json(rest, "hosts", d.hosts);
  take_json(rest, "fleet", d.fleet);
  take(rest, "unread", is_strings, d.unread);
  take(rest, "duration_ms", is_number, d.duration_ms);
  take(rest, "error", is_string, d.error);
  d.other = std::move(rest);
  return d;
}

StepDetail parse_step_detail(std::string_view text) {
  if (text.empty()) return {};
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    StepDetail d;
    d.other["text"] = std::string(text);
    return d;
  }
  return step_detail_from_json(j);
}

}  // namespace villager::store
