#include "targets/lambda_target.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "artifact/manifest.h"
#include "aws/cloudwatch.h"
#include "aws/lambda_client.h"
#include "aws/s3_client.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/redact.h"
#include "base/strings.h"
#include "net/health.h"
#include "net/http.h"
#include "secrets/resolve.h"
#include "targets/lambda_aws.h"

namespace villager::targets {

namespace {

using json = nlohmann::json;
using Millis = std::chrono::milliseconds;

// UpdateFunctionCode takes at most 50 MB of zip directly; larger packages go through S3.
constexpr size_t kDirectUploadLimit = 50 * 1024 * 1024;
// A function's code and layers, unzipped, may not exceed 250 MB; its environment variables 4 KB.
constexpr uint64_t kUnzippedLimit = 250ull * 1024 * 1024;
constexpr size_t kEnvironmentLimit = 4 * 1024;
constexpr Millis kUpdateTimeout{5 * 60 * 1000};
constexpr Millis kUpdatePollInterval{1000};
const std::string kDescriptionPrefix = "villager ";

struct VersionInfo {
  std::string number;   // "7"
  Digest digest;        // empty when CodeSha256 is not a SHA-256
  std::string version;  // "v1.2.3"
};

Result<Digest> digest_from_code_sha256(const std::string& code_sha256) {
  auto raw = base64_decode(code_sha256);
  if (!raw || raw->size() != 32)
    return Internal("Lambda reported a CodeSha256 that is not base64 SHA-256: " + code_sha256);
  return Digest::from_hex(hex_encode(*raw));
}

VersionInfo version_info(const aws::FunctionConfig& f) {
  VersionInfo v;
  v.number = f.version;
  if (auto d = digest_from_code_sha256(f.code_sha256)) v.digest = *d;
  if (starts_with(f.description, kDescriptionPrefix)) {
    auto parts = split(f.description, ' ');
    if (parts.size() >= 3) v.version = parts[2];
  }
  return v;
}

// Whether a published version already runs with `want`: its environment, and every setting the
// environment manages (an unmanaged one, empty or 0, matches whatever the version has).
bool settings_match(const aws::FunctionConfig& have, const aws::FunctionSettings& want,
                    const std::string& architecture) {
  if (have.environment != want.environment) return false;
  if (!want.runtime.empty() && have.runtime != want.runtime) return false;
  if (!want.handler.empty() && have.handler != want.handler) return false;
  if (want.memory_mb > 0 && have.memory_mb != want.memory_mb) return false;
  if (want.timeout_seconds > 0 && have.timeout_seconds != want.timeout_seconds) return false;
  if (want.layers && have.layers != *want.layers) return false;
  if (!architecture.empty() && have.architectures != std::vector<std::string>{architecture}) return false;
  return true;
}

std::string megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1024 * 1024));
  return buf;
}

// Lambda counts an environment's size as its variables' names and values.
size_t environment_bytes(const std::map<std::string, std::string>& vars) {
  size_t n = 0;
  for (const auto& [k, v] : vars) n += k.size() + v.size();
  return n;
}

bool statement_present(const json& policy, const std::string& action, const std::string& qualifier) {
  if (!policy.is_object() || !policy.contains("Statement") || !policy["Statement"].is_array()) return false;
  for (const auto& s : policy["Statement"]) {
    if (!s.is_object() || s.value("Effect", "Allow") != "Allow") continue;
    bool action_ok =
        s.contains("Action") && s["Action"].is_string() && s["Action"].get<std::string>() == action;
    std::string resource =
        s.contains("Resource") && s["Resource"].is_string() ? s["Resource"].get<std::string>() : "";
    bool public_ok =
        s.contains("Principal") && (s["Principal"] == "*" || s["Principal"] == json{{"AWS", "*"}});
    if (action_ok && public_ok && ends_with(resource, ":" + qualifier)) return true;
  }
  return false;
}

// [[monitor.alarm]] rules as CloudWatch alarms on one function's alias. Rules on metrics Lambda does not
// have (availability, restarts) are left to villager's own probes.
std::vector<aws::MetricAlarm> cloudwatch_alarms(const config::Config& config,
                                                const config::EnvironmentConfig& env,
                                                const std::string& service, const std::string& fn) {
  std::vector<aws::MetricAlarm> out;
  for (const auto& a : config.monitor.alarms) {
    if (!a.service.empty() && a.service != service) continue;
    aws::MetricAlarm m;
    if (a.metric == "error_rate") {
      m.ratio_numerator = "Errors";
      m.ratio_denominator = "Invocations";
    } else if (a.metric == "errors_5xx") {
      m.metric_name = "Errors";
      m.statistic = "Sum";
    } else if (a.metric == "p50" || a.metric == "p90" || a.metric == "p99") {
      m.metric_name = "Duration";  // milliseconds, as villager's latency thresholds
      m.extended_statistic = a.metric;
    } else {
      continue;
    }
    m.name = "villager-" + env.name + "-" + service + "-" + a.name;
    m.description =
        "villager [[monitor.alarm]] " + a.name + " (" + a.severity + ") on " + fn + ":" + env.lambda.alias;
    m.dimensions = {{"FunctionName", fn}, {"Resource", fn + ":" + env.lambda.alias}};
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(a.window).count();
    m.period_seconds = static_cast<int>(std::max<int64_t>(60, (seconds + 59) / 60 * 60));
    m.evaluation_periods = std::max(1, a.consecutive);
    m.threshold = a.threshold;
    m.comparison = a.comparison == "below" ? "LessThanThreshold" : "GreaterThanThreshold";
    out.push_back(m);
  }
  return out;
}

class LambdaTarget : public Target {
 public:
  LambdaTarget(const config::Config& config, const config::EnvironmentConfig& env, aws::Credentials creds)
      : config_(config),
        env_(env),
        lambda_http_(lambda_client_options(env, creds, "lambda", "lambda", "LAMBDA")),
        s3_http_(lambda_client_options(env, creds, "s3", "s3", "S3")),
        monitoring_http_(lambda_client_options(env, creds, "monitoring", "monitoring", "CLOUDWATCH")),
        lambda_(lambda_http_) {}

  std::string kind() const override { return "lambda"; }

  // Lambda's size limits, from the artifact's manifest and the configuration alone (no API call): a
  // release that cannot fit is refused before anything changes.
  Status check_release(const std::string& service, const std::string& digest) override {
    auto fn = function(service);
    if (!fn) return fn.error();
    std::string what = service + " (Lambda function " + *fn + ")";
    auto m = artifact::read_manifest(config_.state_dir() / "artifacts", digest);
    if (!m) return m.error().context(what);
    if (m->zip_size > kDirectUploadLimit && env_.lambda.s3_bucket.empty())
      return FailedPrecondition(what + ": the package is " + megabytes(m->zip_size) +
                                ", over Lambda's 50 MB direct-upload limit; set s3_bucket in [environments." +
                                env_.name + "] to upload it through S3");
    uint64_t unzipped = 0;
    for (const auto& f : m->files) unzipped += f.size;
    if (unzipped > kUnzippedLimit)
      return FailedPrecondition(what + ": the package is " + megabytes(unzipped) +
                                " unzipped, over Lambda's 250 MB limit for code and layers together");
    auto vars = desired_environment(service);
    if (!vars) return vars.error().context(what);
    if (size_t n = environment_bytes(*vars); n > kEnvironmentLimit)
      return FailedPrecondition(what + ": its environment variables (env and secrets) take " +
                                std::to_string(n) + " bytes, over Lambda's 4 KB limit");
    return Ok();
  }

  Result<SlotInfo> start_candidate(const std::string& service, const std::string& digest,
                                   const std::string& version) override {
    auto fn = function(service);
    if (!fn) return fn.error();
    auto s = start(service, *fn, digest, version);
    if (!s) return s.error().context("deploying " + service + " to Lambda function " + *fn);
    return s;
  }

  Status set_weights(const std::string& service, const std::map<std::string, int>& weights) override {
    auto fn = function(service);
    if (!fn) return fn.error();
    if (weights.empty()) return Ok();  // nothing served before: leave the alias as it is
    auto alias = lambda_.get_alias(*fn, env_.lambda.alias);
    bool exists = alias.has_value();
    if (!exists && alias.error().code != Code::kNotFound) return alias.error();
    std::map<std::string, std::string> numbers;  // digest -> version number
    for (const auto& [digest, w] : weights) {
      auto n = version_number(service, *fn, digest);
      if (!n) return n.error();
      numbers[digest] = *n;
    }
    // The primary version keeps what the alias points at, so a canary is "old + share of new".
    std::string primary;
    for (const auto& [digest, w] : weights)
      if (exists && numbers[digest] == alias->function_version && w > 0) primary = digest;
    if (primary.empty())
      primary = std::max_element(weights.begin(), weights.end(), [](const auto& a, const auto& b) {
                  return a.second < b.second;
                })->first;
    std::map<std::string, double> routing;
    for (const auto& [digest, w] : weights)
      if (digest != primary && w > 0) routing[numbers[digest]] = w / 100.0;
    if (!exists) {
      if (!routing.empty())
        return FailedPrecondition("alias " + *fn + ":" + env_.lambda.alias +
                                  " does not exist yet, so traffic "
                                  "cannot be split; deploy it first with one version");
      auto created = lambda_.create_alias(*fn, env_.lambda.alias, numbers[primary], "villager");
      if (!created) return created.error();
      return ensure_function_url(service, *fn, env_.lambda.alias);
    }
    if (alias->function_version == numbers[primary] && alias->additional_weights == routing) return Ok();
    auto updated = lambda_.update_alias(*fn, env_.lambda.alias, numbers[primary], routing);
    if (!updated) return updated.error();
    return Ok();
  }

  Status promote(const std::string& service, const std::string& digest) override {
    VILLAGER_RETURN_IF_ERROR(set_weights(service, {{digest, 100}}));
    auto fn = function(service);
    if (!fn) return fn.error();
    // The alias's public URL is checked on every deploy, not only created once.
    VILLAGER_RETURN_IF_ERROR(ensure_function_url(service, *fn, env_.lambda.alias));
    VILLAGER_RETURN_IF_ERROR(ensure_provisioned_concurrency(*fn));
    // The alarm rules live on in CloudWatch after this run ends.
    for (const auto& alarm : cloudwatch_alarms(config_, env_, service, *fn))
      VILLAGER_RETURN_IF_ERROR(aws::put_metric_alarm(monitoring_http_, alarm));
    return Ok();
  }

  // The post-traffic hook, once this deploy's release serves all traffic (never on a rollback).
  Status verify_promoted(const std::string& service, const std::string& digest) override {
    if (env_.lambda.post_traffic_hook.empty()) return Ok();
    auto fn = function(service);
    if (!fn) return fn.error();
    auto number = version_number(service, *fn, digest);
    if (!number) return number.error();
    auto release = releases_.find(digest);
    return run_hook(env_.lambda.post_traffic_hook, "post_traffic", service, *fn, *number,
                    release == releases_.end() ? "" : release->second, digest, env_.lambda.alias);
  }

  // Lambda keeps every published version (it is what a rollback returns to); nothing to stop.
  Status stop(const std::string&, const std::string&) override { return Ok(); }

  Result<std::vector<SlotInfo>> slots() override {
    std::vector<SlotInfo> out;
    for (const auto& [service, fn] : env_.lambda.functions) {
      auto alias = lambda_.get_alias(fn, env_.lambda.alias);
      if (!alias && alias.error().code != Code::kNotFound) return alias.error().context(service);
      auto versions = lambda_.list_versions(fn);
      if (!versions) return versions.error().context(service);
      std::map<std::string, int> weight;  // version number -> percent
      if (alias) {
        double extra = 0;
        for (const auto& [n, share] : alias->additional_weights) {
          weight[n] = static_cast<int>(share * 100 + 0.5);
          extra += share;
        }
        weight[alias->function_version] = static_cast<int>((1.0 - extra) * 100 + 0.5);
      }
      for (const auto& f : *versions) {
        if (f.version == "$LATEST") continue;
        auto v = version_info(f);
        bool villager_made = starts_with(f.description, kDescriptionPrefix);
        bool routed = weight.count(v.number) > 0;
        if (!villager_made && !routed) continue;
        versions_[service][v.digest.full()] = v.number;
        SlotInfo s;
        s.service = service;
        s.digest = v.digest.full();
        s.version = v.version.empty() ? "lambda:" + v.number : v.version;
        s.weight = routed ? weight[v.number] : 0;
        s.role = alias && alias->function_version == v.number ? SlotRole::kServing
                 : s.weight > 0                               ? SlotRole::kCanary
                                                              : SlotRole::kWarm;
        s.healthy = true;
        s.port = std::atoi(v.number.c_str());  // the version number: the closest thing to a port a slot has
        out.push_back(s);
      }
    }
    return out;
  }

  std::string public_url(const std::string& service) const override {
    auto it = env_.lambda.functions.find(service);
    if (it == env_.lambda.functions.end()) return "";
    return url_for(it->second, env_.lambda.alias);
  }

  std::string slot_url(const SlotInfo& slot) const override {
    auto it = env_.lambda.functions.find(slot.service);
    if (it == env_.lambda.functions.end()) return "";
    return url_for(it->second, candidate_alias());
  }

 private:
  std::string candidate_alias() const { return env_.lambda.alias + "-candidate"; }

  Result<std::string> function(const std::string& service) const {
    auto it = env_.lambda.functions.find(service);
    if (it == env_.lambda.functions.end())
      return InvalidArgument("environment '" + env_.name + "' has no Lambda function for service '" +
                             service + "'");
    return it->second;
  }

  // The URL of `qualifier`'s Function URL: url_template when set, else what Lambda reports (cached).
  std::string url_for(const std::string& fn, const std::string& qualifier) const {
    if (!env_.lambda.url_template.empty())
      return replace_all(replace_all(env_.lambda.url_template, "{function}", fn), "{qualifier}", qualifier);
    if (auto it = urls_.find(fn + ":" + qualifier); it != urls_.end()) return it->second;
    auto u = lambda_.get_function_url(fn, qualifier);
    if (!u) return "";
    std::string url = u->url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    urls_[fn + ":" + qualifier] = url;
    return url;
  }

  Result<std::string> version_number(const std::string& service, const std::string& fn,
                                     const std::string& digest) {
    if (auto it = versions_[service].find(digest); it != versions_[service].end()) return it->second;
    auto versions = lambda_.list_versions(fn);
    if (!versions) return versions.error();
    for (const auto& f : *versions) {
      if (f.version == "$LATEST") continue;
      auto v = version_info(f);
      if (v.digest.full() == digest) versions_[service][digest] = v.number;
    }
    if (auto it = versions_[service].find(digest); it != versions_[service].end()) return it->second;
    return NotFound("no published version of " + fn + " holds " + digest);
  }

  // The environment variables a version of `service` runs with: its plain `env` and its secrets.
  Result<std::map<std::string, std::string>> desired_environment(const std::string& service) {
    const auto* svc = config_.service(service);
    if (!svc) return InvalidArgument("no service '" + service + "'");
    std::map<std::string, std::string> vars = svc->env;
    auto secrets = secrets::resolve_for_service(config_.state_dir(), env_.name, *svc);
    if (!secrets) return secrets.error();
    for (const auto& [name, value] : secrets->values) vars[name] = value.reveal();
    return vars;
  }

  // What UpdateFunctionConfiguration should leave on the function for `service`.
  Result<aws::FunctionSettings> desired_settings(const std::string& service) {
    auto vars = desired_environment(service);
    if (!vars) return vars.error();
    aws::FunctionSettings out;
    out.environment = std::move(*vars);
    out.runtime = env_.lambda.runtime;
    if (auto it = env_.lambda.handlers.find(service); it != env_.lambda.handlers.end())
      out.handler = it->second;
    out.memory_mb = env_.lambda.memory_mb;
    out.timeout_seconds = static_cast<int>(env_.lambda.timeout.count() / 1000);
    out.layers = env_.lambda.layers;
    return out;
  }

  // Invokes a pre- or post-traffic hook function with what it is to check; anything but an answer
  // {"status": "Succeeded"} fails (as CodeDeploy's lifecycle hooks must report success).
  Status run_hook(const std::string& hook, const std::string& stage, const std::string& service,
                  const std::string& fn, const std::string& number, const std::string& version,
                  const std::string& digest, const std::string& qualifier) {
    json payload = {{"villager",
                     {{"stage", stage},
                      {"environment", env_.name},
                      {"service", service},
                      {"function", fn},
                      {"version", number},
                      {"release", version},
                      {"digest", digest},
                      {"alias", qualifier},
                      {"url", url_for(fn, qualifier)}}}};
    std::string what = "the " + stage + " hook " + hook + " for " + service + " " + version;
    auto r = lambda_.invoke(hook, "", payload.dump());
    if (!r) return r.error().context(what);
    auto answer = json::parse(r->payload, nullptr, false);
    if (!r->function_error.empty()) {
      std::string message = answer.is_object() ? answer.value("errorMessage", "") : "";
      return FailedPrecondition(what + " raised (" + r->function_error +
                                "): " + redact(message.empty() ? r->payload.substr(0, 300) : message));
    }
    std::string status = answer.is_object() ? answer.value("status", "") : "";
    if (status == "Succeeded") return Ok();
    std::string reason = answer.is_object() ? answer.value("reason", "") : "";
    if (status == "Failed")
      return FailedPrecondition(what + " failed" + (reason.empty() ? "" : ": " + redact(reason)));
    return FailedPrecondition(
        what + " did not answer {\"status\": \"Succeeded\"}: " + redact(r->payload.substr(0, 300)));
  }

  // Provisioned concurrency on the alias, as configured (put when it differs, removed at 0).
  Status ensure_provisioned_concurrency(const std::string& fn) {
    int want = env_.lambda.provisioned_concurrency;
    if (want < 0) return Ok();
    auto have = lambda_.get_provisioned_concurrency(fn, env_.lambda.alias);
    if (!have && have.error().code != Code::kNotFound) return have.error();
    if (want == 0) return have ? lambda_.delete_provisioned_concurrency(fn, env_.lambda.alias) : Ok();
    if (have && have->requested == want) return Ok();
    auto put = lambda_.put_provisioned_concurrency(fn, env_.lambda.alias, want);
    if (!put) return put.error();
    return Ok();
  }

  Result<SlotInfo> start(const std::string& service, const std::string& fn, const std::string& digest,
                         const std::string& version) {
    auto parsed = Digest::parse(digest);
    if (!parsed) return parsed.error();
    auto expected = aws::code_sha256_from_digest(*parsed);
    if (!expected) return expected.error();
    // Deploy checked the limits before the gate; a cold rollback's start comes here directly.
    VILLAGER_RETURN_IF_ERROR(check_release(service, digest));
    auto settings = desired_settings(service);
    if (!settings) return settings.error();
    const std::string& arch = env_.lambda.architecture;
    // "villager sha256:<hex> v1.2.3": version_info() reads the release back from it.
    std::string description = kDescriptionPrefix + parsed->full() + " " + version;

    // A version already published from these bytes with this configuration is reused as it is.
    auto versions = lambda_.list_versions(fn);
    if (!versions) return versions.error();
    std::string number;
    for (const auto& f : *versions)
      if (f.version != "$LATEST" && f.code_sha256 == *expected && f.description == description &&
          settings_match(f, *settings, arch))
        number = f.version;

    if (number.empty()) {
      auto zip = read_file(artifact::artifact_zip_path(config_.state_dir() / "artifacts", *parsed));
      if (!zip) return zip.error().context("reading the artifact");
      if (aws::code_sha256(*zip) != *expected)
        return Conflict("the stored artifact " + digest +
                        " no longer hashes to its name; refusing to upload it");
      if (zip->size() > kDirectUploadLimit) {  // check_release saw to it that s3_bucket is set
        std::string key = env_.lambda.s3_key_prefix + fn + "/" + std::string(parsed->hex()) + ".zip";
        VILLAGER_RETURN_IF_ERROR(aws::s3_put_object(s3_http_, env_.lambda.s3_bucket, key, *zip));
        auto up = lambda_.update_function_code_s3(fn, env_.lambda.s3_bucket, key, arch);
        if (!up) return up.error();
      } else {
        auto up = lambda_.update_function_code_zip(fn, *zip, arch);
        if (!up) return up.error();
      }
      auto latest = lambda_.wait_until_updated(fn, kUpdateTimeout, kUpdatePollInterval);
      if (!latest) return latest.error();
      if (!settings_match(*latest, *settings, "")) {
        auto cfg = lambda_.update_configuration(fn, *settings);
        if (!cfg) return cfg.error();
        auto ready = lambda_.wait_until_updated(fn, kUpdateTimeout, kUpdatePollInterval);
        if (!ready) return ready.error();
      }
      auto published = lambda_.publish_version(fn, *expected, description);
      if (!published) return published.error();
      number = published->version;
    }
    versions_[service][digest] = number;
    releases_[digest] = version;

    // The candidate alias points at the new version alone; its Function URL is what the smoke suite calls.
    auto cand = lambda_.get_alias(fn, candidate_alias());
    if (!cand && cand.error().code != Code::kNotFound) return cand.error();
    if (!cand) {
      auto created = lambda_.create_alias(fn, candidate_alias(), number, "villager pre-traffic candidate");
      if (!created) return created.error();
    } else if (cand->function_version != number || !cand->additional_weights.empty()) {
      auto updated = lambda_.update_alias(fn, candidate_alias(), number, {});
      if (!updated) return updated.error();
    }
    VILLAGER_RETURN_IF_ERROR(ensure_function_url(service, fn, candidate_alias()));
    // Like every engine, a candidate counts as started only once it answers its health check.
    VILLAGER_RETURN_IF_ERROR(wait_healthy(service, version, url_for(fn, candidate_alias())));
    if (!env_.lambda.pre_traffic_hook.empty())
      VILLAGER_RETURN_IF_ERROR(run_hook(env_.lambda.pre_traffic_hook, "pre_traffic", service, fn, number,
                                        version, digest, candidate_alias()));

    SlotInfo s;
    s.service = service;
    s.digest = digest;
    s.version = version;
    s.role = targets::SlotRole::kStarting;
    s.healthy = true;
    s.port = std::atoi(number.c_str());
    return s;
  }

  // GET <url><health_path> until it answers 200 with the expected body, within the service's deadline,
  // with the service's auth header when it has one.
  Status wait_healthy(const std::string& service, const std::string& version, const std::string& url) {
    const auto* svc = config_.service(service);
    if (!svc || svc->health_path.empty()) return Ok();
    if (url.empty())
      return FailedPrecondition("the candidate alias " + candidate_alias() + " has no Function URL");
    // Like the agent's health check, the service's own key goes along (an admin health path wants it).
    std::pair<std::string, std::string> auth;
    if (!svc->auth_header.empty() && !svc->auth_secret.empty()) {
      auto secrets = secrets::resolve_for_service(config_.state_dir(), env_.name, *svc);
      if (!secrets) return secrets.error();
      if (auto it = secrets->values.find(svc->auth_secret); it != secrets->values.end())
        auth = {svc->auth_header, it->second.reveal()};
    }
    Clock& clock = *lambda_http_.options().clock;
    auto deadline = clock.steady_now() + svc->health.deadline;
    std::string last;
    while (true) {
      net::HttpRequest req;
      req.url = url + svc->health_path;
      req.timeout = svc->health.timeout;
      if (!auth.first.empty()) req.headers.push_back(auth);
      auto r = net::http_send(req);
      std::string why = r ? net::health_failure(r->status, r->body, svc->health_body) : r.error().message;
      if (why.empty()) return Ok();
      last = r ? why + ": " + r->body.substr(0, 200) : why;
      if (clock.steady_now() >= deadline)
        return Unavailable(service + " " + version + " at " + url + " did not pass its health check (" +
                           svc->health_path + ") within " + format_duration(svc->health.deadline) +
                           "; last answer: " + redact(last));
      clock.sleep_for(svc->health.interval);
    }
  }

  json cors(const std::string& service) const {
    const auto& origins =
        env_.lambda.cors_origins.empty() ? config_.smoke.cors_allowed_origins : env_.lambda.cors_origins;
    if (origins.empty()) return nullptr;
    json headers = json::array({"content-type"});
    // Profile sgraph-send: the page's own requests carry the access token header.
    if (config_.profile == config::Profile::kSgraphSend)
      headers.push_back(config_.smoke.sgraph_send.access_token_header);
    if (const auto* svc = config_.service(service); svc && !svc->auth_header.empty())
      headers.push_back(svc->auth_header);
    json out{{"AllowOrigins", origins},
             {"AllowMethods", {"GET", "POST", "PUT", "DELETE"}},
             {"AllowHeaders", headers},
             {"MaxAge", 300}};
    if (env_.lambda.cors_allow_credentials) out["AllowCredentials"] = true;
    return out;
  }

  // The Function URL of `qualifier`: AuthType NONE with the environment's CORS, and the two public
  // resource-policy statements a NONE URL needs. Created when missing, corrected when different.
  Status ensure_function_url(const std::string& service, const std::string& fn,
                             const std::string& qualifier) {
    json want_cors = cors(service);
    auto url = lambda_.get_function_url(fn, qualifier);
    if (!url && url.error().code != Code::kNotFound) return url.error();
    if (!url) {
      auto created = lambda_.create_function_url(fn, qualifier, "NONE", want_cors);
      if (!created) return created.error();
    } else {
      json have_origins =
          url->cors.is_object() && url->cors.contains("AllowOrigins") ? url->cors["AllowOrigins"] : json();
      json want_origins = want_cors.is_object() ? want_cors["AllowOrigins"] : json();
      if (url->auth_type != "NONE" || (!want_cors.is_null() && have_origins != want_origins)) {
        auto updated = lambda_.update_function_url(fn, qualifier, "NONE", want_cors);
        if (!updated) return updated.error();
      }
    }
    auto policy = lambda_.get_policy(fn, qualifier);
    if (!policy && policy.error().code != Code::kNotFound) return policy.error();
    json doc = policy ? *policy : json::object();
    if (!statement_present(doc, "lambda:InvokeFunctionUrl", qualifier))
      VILLAGER_RETURN_IF_ERROR(lambda_.add_permission(fn, qualifier, "villager-public-url-" + qualifier,
                                                      "lambda:InvokeFunctionUrl", "*",
                                                      json{{"FunctionUrlAuthType", "NONE"}}));
    if (!statement_present(doc, "lambda:InvokeFunction", qualifier))
      VILLAGER_RETURN_IF_ERROR(lambda_.add_permission(fn, qualifier, "villager-public-invoke-" + qualifier,
                                                      "lambda:InvokeFunction", "*",
                                                      json{{"InvokedViaFunctionUrl", true}}));
    urls_.erase(fn + ":" + qualifier);
    return Ok();
  }

  const config::Config& config_;
  const config::EnvironmentConfig& env_;
  aws::AwsClient lambda_http_;
  aws::AwsClient s3_http_;
  aws::AwsClient monitoring_http_;
  // public_url()/slot_url() are const in the Target interface but may need one GetFunctionUrlConfig.
  mutable aws::LambdaClient lambda_;
  std::map<std::string, std::map<std::string, std::string>> versions_;  // service -> digest -> number
  mutable std::map<std::string, std::string> urls_;                     // "fn:qualifier" -> Function URL
  std::map<std::string, std::string> releases_;                         // digest -> "v1.2.3", as started
};

}  // namespace

Result<std::unique_ptr<Target>> make_lambda_target(const config::Config& config,
                                                   const config::EnvironmentConfig& env) {
  auto creds = lambda_credentials(env);
  if (!creds) return creds.error();
  return std::unique_ptr<Target>(new LambdaTarget(config, env, std::move(*creds)));
}

}  // namespace villager::targets
