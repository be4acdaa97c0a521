#pragma once
// LambdaClient: the AWS Lambda control-plane calls villager deploys with (REST-JSON API 2015-03-31 and
// 2021-10-31 for Function URLs), over a signed, retrying AwsClient. Every call returns the fields villager
// reads; errors carry AWS's code and message (a missing function or alias is NotFound).

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "base/hash.h"

namespace villager::aws {

struct FunctionConfig {
  std::string name;
  std::string version;      // "$LATEST" or "3"
  std::string code_sha256;  // base64(sha256(zip))
  std::string description;
  std::string state;               // Pending | Active | Inactive | Failed
  std::string last_update_status;  // InProgress | Successful | Failed
  std::string last_update_reason;
  std::map<std::string, std::string> environment;
  std::string runtime;                     // "python3.12"
  std::string handler;                     // "module.function"
  int memory_mb = 0;                       // MemorySize
  int timeout_seconds = 0;                 // Timeout
  std::vector<std::string> layers;         // layer version ARNs, in order
  std::vector<std::string> architectures;  // ["x86_64"] or ["arm64"]
};

// The configuration UpdateFunctionConfiguration sets. Empty strings, zeros and an unset `layers` leave
// the function's value alone; `environment` is always sent whole (Lambda replaces it).
struct FunctionSettings {
  std::map<std::string, std::string> environment;
  std::string runtime;
  std::string handler;
  int memory_mb = 0;
  int timeout_seconds = 0;
  std::optional<std::vector<std::string>> layers;
};

// Provisioned concurrency on one alias or version (API 2019-09-30).
struct ProvisionedConcurrency {
  int requested = 0;
  int available = 0;
  int allocated = 0;
  std::string status;  // IN_PROGRESS | READY | FAILED
  std::string status_reason;
};

// A synchronous Invoke's answer: `function_error` is X-Amz-Function-Error ("Unhandled" when the code
// raised), empty when the function returned.
struct InvokeResult {
  std::string payload;
  std::string function_error;
};

struct AliasConfig {
  std::string name;
  std::string function_version;
  std::string description;
  std::map<std::string, double> additional_weights;  // version -> share of traffic (0..1)
};

struct FunctionUrlConfig {
  std::string url;
  std::string auth_type;  // NONE | AWS_IAM
  nlohmann::json cors;    // {"AllowOrigins": [...], ...} or null
};

// CodeSha256 as Lambda reports it for a zip: base64 of its raw SHA-256.
std::string code_sha256(std::string_view zip_bytes);
// The same value from villager's artifact digest (InvalidArgument when it is empty).
Result<std::string> code_sha256_from_digest(const Digest& digest);

class LambdaClient {
 public:
  explicit LambdaClient(AwsClient& client) : c_(client) {}

  Result<FunctionConfig> get_function_configuration(const std::string& function,
                                                    const std::string& qualifier = "");
  // `architecture` ("x86_64" or "arm64") goes with the code, as Lambda takes it; "" leaves it.
  Result<FunctionConfig> update_function_code_zip(const std::string& function, std::string_view zip_bytes,
                                                  const std::string& architecture = "");
  Result<FunctionConfig> update_function_code_s3(const std::string& function, const std::string& bucket,
                                                 const std::string& key,
                                                 const std::string& architecture = "");
  // Polls GetFunctionConfiguration every `interval` (on the client's clock) until LastUpdateStatus is
  // Successful; Failed is an error with Lambda's reason; still InProgress after `timeout` is a Timeout.
  Result<FunctionConfig> wait_until_updated(const std::string& function, Millis timeout, Millis interval);
  // UpdateFunctionConfiguration with the fields `settings` sets.
  Result<FunctionConfig> update_configuration(const std::string& function, const FunctionSettings& settings);
  // PublishVersion with CodeSha256 as a precondition; the answer's CodeSha256 is checked too, so a
  // version whose code is not `expected_code_sha256` is refused (FailedPrecondition) whoever let it through.
  Result<FunctionConfig> publish_version(const std::string& function, const std::string& expected_code_sha256,
                                         const std::string& description);
  Result<std::vector<FunctionConfig>> list_versions(const std::string& function);

  Result<AliasConfig> get_alias(const std::string& function, const std::string& alias);
  Result<AliasConfig> create_alias(const std::string& function, const std::string& alias,
                                   const std::string& version, const std::string& description);
  // Points `alias` at `version` with `weights` (other version -> share) as RoutingConfig; an empty map
  // clears the routing so `version` takes all traffic.
  Result<AliasConfig> update_alias(const std::string& function, const std::string& alias,
                                   const std::string& version, const std::map<std::string, double>& weights);

  Result<FunctionUrlConfig> get_function_url(const std::string& function, const std::string& qualifier);
  Result<FunctionUrlConfig> create_function_url(const std::string& function, const std::string& qualifier,
                                                const std::string& auth_type, const nlohmann::json& cors);
  Result<FunctionUrlConfig> update_function_url(const std::string& function, const std::string& qualifier,
                                                const std::string& auth_type, const nlohmann::json& cors);
  // The resource policy document (parsed); NotFound when the function has none.
  Result<nlohmann::json> get_policy(const std::string& function, const std::string& qualifier);
  // AddPermission; `extra` adds fields such as FunctionUrlAuthType or InvokedViaFunctionUrl.
  Status add_permission(const std::string& function, const std::string& qualifier,
                        const std::string& statement_id, const std::string& action,
                        const std::string& principal, const nlohmann::json& extra);

  // Provisioned concurrency on `qualifier` (an alias): NotFound when none is configured.
  Result<ProvisionedConcurrency> get_provisioned_concurrency(const std::string& function,
                                                             const std::string& qualifier);
  Result<ProvisionedConcurrency> put_provisioned_concurrency(const std::string& function,
                                                             const std::string& qualifier, int executions);
  Status delete_provisioned_concurrency(const std::string& function, const std::string& qualifier);

  // A synchronous Invoke (RequestResponse) of `function` at `qualifier` with a JSON payload.
  Result<InvokeResult> invoke(const std::string& function, const std::string& qualifier,
                              const std::string& payload);

  AwsClient& client() { return c_; }

 private:
  Result<nlohmann::json> call_json(const std::string& method, const std::string& path,
                                   const std::string& what, const nlohmann::json& body = nullptr);
  AwsClient& c_;
};

}  // namespace villager::aws
