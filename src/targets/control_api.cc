#include "targets/control_api.h"

#include <nlohmann/json.hpp>

namespace villager::targets::control_api {

namespace {

using json = nlohmann::json;

Result<json> object_of(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("body must be a JSON object");
  return j;
}

// The string field `name`; `required` fields must be present.
Result<std::string> string_field(const json& j, const char* name, bool required) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) return InvalidArgument(std::string("body must be JSON with a \"") + name + "\"");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string("\"") + name + "\" must be a string");
  return it->get<std::string>();
}

// The required "digest" field, which must be a digest.
Result<Digest> digest_field(const json& j) {
  auto text = string_field(j, "digest", true);
  if (!text) return text.error();
  auto digest = Digest::parse(*text);
  if (!digest) return digest.error().context("\"digest\"");
  return digest;
}

json slot_object(const SlotInfo& s) {
  return {{"service", s.service}, {"digest", s.digest},
          {"version", s.version}, {"port", s.port},
          {"pid", s.pid},         {"role", to_string(s.role)},
          {"weight", s.weight},   {"restarts", s.restarts},
          {"healthy", s.healthy}, {"started_at_ms", s.started_at_ms}};
}

Result<SlotInfo> slot_from(const json& j) {
  if (!j.is_object() || !j.contains("digest") || !j["digest"].is_string())
    return Internal("agent answered with unexpected JSON: a slot without a \"digest\"");
  try {
    SlotInfo s;
    s.service = j.value("service", "");
    s.digest = j.value("digest", "");
    s.version = j.value("version", "");
    auto role = parse_slot_role(j.value("role", ""));
    if (!role) return Internal("agent answered with unexpected JSON: " + role.error().message);
    s.role = *role;
    s.port = j.value("port", 0);
    s.pid = j.value("pid", 0);
    s.weight = j.value("weight", 0);
    s.restarts = j.value("restarts", 0);
    s.healthy = j.value("healthy", false);
    s.started_at_ms = j.value("started_at_ms", int64_t{0});
    return s;
  } catch (const json::exception& e) {
    return Internal(std::string("agent answered with unexpected JSON: ") + e.what());
  }
}

}  // namespace

std::string to_json(const StartRelease& m) {
  return json{{"digest", m.digest.full()}, {"version", m.version}}.dump();
}
std::string to_json(const ReleaseRef& m) {
  return json{{"digest", m.digest.full()}}.dump();
}
std::string to_json(const FinishRehearsal& m) {
  return json{{"digest", m.digest.full()}, {"abort", m.abort}}.dump();
}
std::string to_json(const SetRoutes& m) {
  json w = json::object();
  for (const auto& [digest, percent] : m.weights) w[digest] = percent;
  return json{{"weights", w}}.dump();
}
std::string to_json(const WindowQuery& m) {
  return json{{"window_ms", m.window_ms}, {"digest", m.digest}}.dump();
}

Result<StartRelease> parse_start_release(const std::string& body) {
  auto j = object_of(body);
  if (!j) return j.error();
  auto digest = digest_field(*j);
  if (!digest) return digest.error();
  auto version = string_field(*j, "version", false);
  if (!version) return version.error();
  return StartRelease{*digest, *version};
}

Result<ReleaseRef> parse_release_ref(const std::string& body) {
  auto j = object_of(body);
  if (!j) return j.error();
  auto digest = digest_field(*j);
  if (!digest) return digest.error();
  return ReleaseRef{*digest};
}

Result<FinishRehearsal> parse_finish_rehearsal(const std::string& body) {
  auto j = object_of(body);
  if (!j) return j.error();
  auto text = string_field(*j, "digest", true);
  if (!text) return text.error();
  FinishRehearsal m;
  if (auto it = j->find("abort"); it != j->end()) {
    if (!it->is_boolean()) return InvalidArgument("\"abort\" must be true or false");
    m.abort = it->get<bool>();
  }
  // The digest's spelling is judged after every field's presence and type.
  auto digest = digest_field(*j);
  if (!digest) return digest.error();
  m.digest = std::move(*digest);
  return m;
}

Result<SetRoutes> parse_set_routes(const std::string& body) {
  auto j = object_of(body);
  if (!j) return j.error();
  auto it = j->find("weights");
  if (it == j->end() || !it->is_object())
    return InvalidArgument("body must be JSON with \"weights\": {digest: percent}");
  SetRoutes m;
  for (const auto& [digest, v] : it->items()) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 100)
      return InvalidArgument("weight of " + digest + " must be an integer 0..100");
    m.weights[digest] = v.get<int>();
  }
  return m;
}

Result<WindowQuery> parse_window_query(const std::string& body) {
  auto j = object_of(body);
  if (!j) return j.error();
  auto it = j->find("window_ms");
  if (it == j->end() || !it->is_number_integer() || it->get<int64_t>() < 0)
    return InvalidArgument("body must be JSON with \"window_ms\" (milliseconds) and optionally \"digest\"");
  auto digest = string_field(*j, "digest", false);
  if (!digest) return digest.error();
  return WindowQuery{it->get<int64_t>(), *digest};
}

json slot_to_json(const SlotInfo& slot) {
  return slot_object(slot);
}

Result<SlotInfo> parse_slot(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Internal("agent answered with text that is not JSON");
  return slot_from(j);
}

Result<std::vector<SlotInfo>> parse_status_slots(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("slots") || !j["slots"].is_array())
    return Internal("agent status is not the expected JSON: no \"slots\" list");
  std::vector<SlotInfo> out;
  for (const auto& s : j["slots"]) {
    auto slot = slot_from(s);
    if (!slot) return slot.error();
    out.push_back(std::move(*slot));
  }
  return out;
}

Result<int64_t> parse_swap_ms(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("swap_ms") || !j["swap_ms"].is_number_integer())
    return Internal("agent answered with unexpected JSON: no \"swap_ms\"");
  return j["swap_ms"].get<int64_t>();
}

std::string service_path(const std::string& env, const std::string& service, const std::string& action) {
  return "/v1/env/" + env + "/service/" + service + "/" + action;
}

}  // namespace villager::targets::control_api
