#include "aws/lambda_client.h"

#include "base/hash.h"
#include "base/strings.h"

namespace villager::aws {

namespace {

using json = nlohmann::json;

const std::string kApi = "/2015-03-31/functions/";
const std::string kUrlApi = "/2021-10-31/functions/";
const std::string kConcurrencyApi = "/2019-09-30/functions/";

std::string fn_path(const std::string& api, const std::string& function) {
  return api + uri_encode(function);
}

std::string qualifier_query(const std::string& qualifier) {
  return qualifier.empty() ? "" : "?Qualifier=" + uri_encode(qualifier);
}

FunctionConfig parse_function(const json& j) {
  FunctionConfig f;
  f.name = j.value("FunctionName", "");
  f.version = j.value("Version", "");
  f.code_sha256 = j.value("CodeSha256", "");
  f.description = j.value("Description", "");
  f.state = j.value("State", "");
  f.last_update_status = j.value("LastUpdateStatus", "");
  f.last_update_reason = j.value("LastUpdateStatusReason", "");
  if (j.contains("Environment") && j["Environment"].is_object() && j["Environment"].contains("Variables") &&
      j["Environment"]["Variables"].is_object())
    for (const auto& [k, v] : j["Environment"]["Variables"].items())
      if (v.is_string()) f.environment[k] = v.get<std::string>();
  f.runtime = j.value("Runtime", "");
  f.handler = j.value("Handler", "");
  if (j.contains("MemorySize") && j["MemorySize"].is_number_integer())
    f.memory_mb = j["MemorySize"].get<int>();
  if (j.contains("Timeout") && j["Timeout"].is_number_integer()) f.timeout_seconds = j["Timeout"].get<int>();
  if (j.contains("Layers") && j["Layers"].is_array())
    for (const auto& l : j["Layers"])
      if (l.is_object() && l.contains("Arn") && l["Arn"].is_string())
        f.layers.push_back(l["Arn"].get<std::string>());
  if (j.contains("Architectures") && j["Architectures"].is_array())
    for (const auto& a : j["Architectures"])
      if (a.is_string()) f.architectures.push_back(a.get<std::string>());
  return f;
}

ProvisionedConcurrency parse_provisioned(const json& j) {
  ProvisionedConcurrency p;
  auto number = [&](const char* key) {
    return j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : 0;
  };
  p.requested = number("RequestedProvisionedConcurrentExecutions");
  p.available = number("AvailableProvisionedConcurrentExecutions");
  p.allocated = number("AllocatedProvisionedConcurrentExecutions");
  p.status = j.value("Status", "");
  p.status_reason = j.value("StatusReason", "");
  return p;
}

AliasConfig parse_alias(const json& j) {
  AliasConfig a;
  a.name = j.value("Name", "");
  a.function_version = j.value("FunctionVersion", "");
  a.description = j.value("Description", "");
  if (j.contains("RoutingConfig") && j["RoutingConfig"].is_object() &&
      j["RoutingConfig"].contains("AdditionalVersionWeights") &&
      j["RoutingConfig"]["AdditionalVersionWeights"].is_object())
    for (const auto& [k, v] : j["RoutingConfig"]["AdditionalVersionWeights"].items())
      if (v.is_number()) a.additional_weights[k] = v.get<double>();
  return a;
}

FunctionUrlConfig parse_url(const json& j) {
  FunctionUrlConfig u;
  u.url = j.value("FunctionUrl", "");
  u.auth_type = j.value("AuthType", "");
  u.cors = j.contains("Cors") ? j["Cors"] : json(nullptr);
  return u;
}

}  // namespace

std::string code_sha256(std::string_view zip_bytes) {
  return base64_encode(sha256(zip_bytes));
}

Result<std::string> code_sha256_from_digest(const Digest& digest) {
  auto raw = hex_decode(digest.hex());
  if (digest.empty() || !raw) return InvalidArgument("not a sha256 digest: '" + digest.full() + "'");
  return base64_encode(*raw);
}

Result<json> LambdaClient::call_json(const std::string& method, const std::string& path,
                                     const std::string& what, const json& body) {
  auto resp = c_.call(method, path, body.is_null() ? "" : body.dump());
  if (!resp) return resp.error().context(what);
  if (resp->body.empty()) return json::object();
  auto j = json::parse(resp->body, nullptr, false);
  if (j.is_discarded()) return Internal(what + ": Lambda answered with something that is not JSON");
  return j;
}

Result<FunctionConfig> LambdaClient::get_function_configuration(const std::string& function,
                                                                const std::string& qualifier) {
  auto j = call_json("GET", fn_path(kApi, function) + "/configuration" + qualifier_query(qualifier),
                     "GetFunctionConfiguration " + function);
  if (!j) return j.error();
  return parse_function(*j);
}

Result<FunctionConfig> LambdaClient::update_function_code_zip(const std::string& function,
                                                              std::string_view zip_bytes,
                                                              const std::string& architecture) {
  json body{{"ZipFile", base64_encode(zip_bytes)}, {"Publish", false}};
  if (!architecture.empty()) body["Architectures"] = json::array({architecture});
  auto j = call_json("PUT", fn_path(kApi, function) + "/code", "UpdateFunctionCode " + function, body);
  if (!j) return j.error();
  return parse_function(*j);
}

Result<FunctionConfig> LambdaClient::update_function_code_s3(const std::string& function,
                                                             const std::string& bucket,
                                                             const std::string& key,
                                                             const std::string& architecture) {
  json body{{"S3Bucket", bucket}, {"S3Key", key}, {"Publish", false}};
  if (!architecture.empty()) body["Architectures"] = json::array({architecture});
  auto j = call_json("PUT", fn_path(kApi, function) + "/code", "UpdateFunctionCode " + function, body);
  if (!j) return j.error();
  return parse_function(*j);
}

Result<FunctionConfig> LambdaClient::wait_until_updated(const std::string& function, Millis timeout,
                                                        Millis interval) {
  Clock& clock = *c_.options().clock;
  auto deadline = clock.steady_now() + timeout;
  while (true) {
    auto f = get_function_configuration(function);
    if (!f) return f.error();
    if (f->last_update_status == "Successful" || f->last_update_status.empty()) return f;
    if (f->last_update_status == "Failed")
      return FailedPrecondition("Lambda could not apply the update to " + function + ": " +
                                (f->last_update_reason.empty() ? "no reason given" : f->last_update_reason));
    if (clock.steady_now() >= deadline)
      return Timeout(function + " is still " + f->last_update_status + " after " + format_duration(timeout));
    clock.sleep_for(interval);
  }
}

Result<FunctionConfig> LambdaClient::update_configuration(const std::string& function,
                                                          const FunctionSettings& settings) {
  json vars = json::object();
  for (const auto& [k, v] : settings.environment) vars[k] = v;
  json body{{"Environment", {{"Variables", vars}}}};
  if (!settings.runtime.empty()) body["Runtime"] = settings.runtime;
  if (!settings.handler.empty()) body["Handler"] = settings.handler;
  if (settings.memory_mb > 0) body["MemorySize"] = settings.memory_mb;
  if (settings.timeout_seconds > 0) body["Timeout"] = settings.timeout_seconds;
  if (settings.layers) body["Layers"] = *settings.layers;
  auto j = call_json("PUT", fn_path(kApi, function) + "/configuration",
                     "UpdateFunctionConfiguration " + function, body);
  if (!j) return j.error();
  return parse_function(*j);
}

Result<FunctionConfig> LambdaClient::publish_version(const std::string& function,
                                                     const std::string& expected_code_sha256,
                                                     const std::string& description) {
  auto j = call_json("POST", fn_path(kApi, function) + "/versions", "PublishVersion " + function,
                     json{{"CodeSha256", expected_code_sha256}, {"Description", description}});
  if (!j) return j.error();
  auto f = parse_function(*j);
  if (f.code_sha256 != expected_code_sha256)
    return FailedPrecondition("PublishVersion " + function + " returned version " + f.version +
                              " with CodeSha256 " + f.code_sha256 + ", but the artifact's is " +
                              expected_code_sha256 +
                              "; refusing to route traffic to code that is not the artifact");
  return f;
}

Result<std::vector<FunctionConfig>> LambdaClient::list_versions(const std::string& function) {
  std::vector<FunctionConfig> out;
  std::string marker;
  do {
    std::string path = fn_path(kApi, function) + "/versions?MaxItems=50";
    if (!marker.empty()) path += "&Marker=" + uri_encode(marker);
    auto j = call_json("GET", path, "ListVersionsByFunction " + function);
    if (!j) return j.error();
    if (j->contains("Versions") && (*j)["Versions"].is_array())
      for (const auto& v : (*j)["Versions"]) out.push_back(parse_function(v));
    marker = j->contains("NextMarker") && (*j)["NextMarker"].is_string()
                 ? (*j)["NextMarker"].get<std::string>()
                 : "";
  } while (!marker.empty());
  return out;
}

Result<AliasConfig> LambdaClient::get_alias(const std::string& function, const std::string& alias) {
  auto j = call_json("GET", fn_path(kApi, function) + "/aliases/" + uri_encode(alias),
                     "GetAlias " + function + ":" + alias);
  if (!j) return j.error();
  return parse_alias(*j);
}

Result<AliasConfig> LambdaClient::create_alias(const std::string& function, const std::string& alias,
                                               const std::string& version, const std::string& description) {
  auto j = call_json("POST", fn_path(kApi, function) + "/aliases", "CreateAlias " + function + ":" + alias,
                     json{{"Name", alias}, {"FunctionVersion", version}, {"Description", description}});
  if (!j) return j.error();
  return parse_alias(*j);
}

Result<AliasConfig> LambdaClient::update_alias(const std::string& function, const std::string& alias,
                                               const std::string& version,
                                               const std::map<std::string, double>& weights) {
  json w = json::object();
  for (const auto& [v, share] : weights) w[v] = share;
  auto j =
      call_json("PUT", fn_path(kApi, function) + "/aliases/" + uri_encode(alias),
                "UpdateAlias " + function + ":" + alias,
                json{{"FunctionVersion", version}, {"RoutingConfig", {{"AdditionalVersionWeights", w}}}});
  if (!j) return j.error();
  return parse_alias(*j);
}

Result<FunctionUrlConfig> LambdaClient::get_function_url(const std::string& function,
                                                         const std::string& qualifier) {
  auto j = call_json("GET", fn_path(kUrlApi, function) + "/url" + qualifier_query(qualifier),
                     "GetFunctionUrlConfig " + function + ":" + qualifier);
  if (!j) return j.error();
  return parse_url(*j);
}

Result<FunctionUrlConfig> LambdaClient::create_function_url(const std::string& function,
                                                            const std::string& qualifier,
                                                            const std::string& auth_type, const json& cors) {
  json body{{"AuthType", auth_type}};
  if (!cors.is_null()) body["Cors"] = cors;
  auto j = call_json("POST", fn_path(kUrlApi, function) + "/url" + qualifier_query(qualifier),
                     "CreateFunctionUrlConfig " + function + ":" + qualifier, body);
  if (!j) return j.error();
  return parse_url(*j);
}

Result<FunctionUrlConfig> LambdaClient::update_function_url(const std::string& function,
                                                            const std::string& qualifier,
                                                            const std::string& auth_type, const json& cors) {
  json body{{"AuthType", auth_type}};
  if (!cors.is_null()) body["Cors"] = cors;
  auto j = call_json("PUT", fn_path(kUrlApi, function) + "/url" + qualifier_query(qualifier),
                     "UpdateFunctionUrlConfig " + function + ":" + qualifier, body);
  if (!j) return j.error();
  return parse_url(*j);
}

Result<json> LambdaClient::get_policy(const std::string& function, const std::string& qualifier) {
  auto j = call_json("GET", fn_path(kApi, function) + "/policy" + qualifier_query(qualifier),
                     "GetPolicy " + function + ":" + qualifier);
  if (!j) return j.error();
  if (!j->contains("Policy") || !(*j)["Policy"].is_string()) return json::object();
  auto policy = json::parse((*j)["Policy"].get<std::string>(), nullptr, false);
  if (policy.is_discarded()) return Internal("GetPolicy " + function + ": the policy is not JSON");
  return policy;
}

Status LambdaClient::add_permission(const std::string& function, const std::string& qualifier,
                                    const std::string& statement_id, const std::string& action,
                                    const std::string& principal, const json& extra) {
  json body{{"StatementId", statement_id}, {"Action", action}, {"Principal", principal}};
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) body[k] = v;
  auto j = call_json("POST", fn_path(kApi, function) + "/policy" + qualifier_query(qualifier),
                     "AddPermission " + function + ":" + qualifier + " " + statement_id, body);
  if (!j) return j.error();
  return Ok();
}

Result<ProvisionedConcurrency> LambdaClient::get_provisioned_concurrency(const std::string& function,
                                                                         const std::string& qualifier) {
  auto j = call_json(
      "GET", fn_path(kConcurrencyApi, function) + "/provisioned-concurrency" + qualifier_query(qualifier),
      "GetProvisionedConcurrencyConfig " + function + ":" + qualifier);
  if (!j) return j.error();
  return parse_provisioned(*j);
}

Result<ProvisionedConcurrency> LambdaClient::put_provisioned_concurrency(const std::string& function,
                                                                         const std::string& qualifier,
                                                                         int executions) {
  auto j = call_json(
      "PUT", fn_path(kConcurrencyApi, function) + "/provisioned-concurrency" + qualifier_query(qualifier),
      "PutProvisionedConcurrencyConfig " + function + ":" + qualifier,
      json{{"ProvisionedConcurrentExecutions", executions}});
  if (!j) return j.error();
  return parse_provisioned(*j);
}

Status LambdaClient::delete_provisioned_concurrency(const std::string& function,
                                                    const std::string& qualifier) {
  auto j = call_json(
      "DELETE", fn_path(kConcurrencyApi, function) + "/provisioned-concurrency" + qualifier_query(qualifier),
      "DeleteProvisionedConcurrencyConfig " + function + ":" + qualifier);
  if (!j) return j.error();
  return Ok();
}

Result<InvokeResult> LambdaClient::invoke(const std::string& function, const std::string& qualifier,
                                          const std::string& payload) {
  auto resp = c_.call("POST", fn_path(kApi, function) + "/invocations" + qualifier_query(qualifier), payload,
                      "application/json", {{"X-Amz-Invocation-Type", "RequestResponse"}});
  if (!resp) return resp.error().context("Invoke " + function + (qualifier.empty() ? "" : ":" + qualifier));
  InvokeResult r;
  r.payload = resp->body;
  r.function_error = resp->header("X-Amz-Function-Error");
  return r;
}

}  // namespace villager::aws
