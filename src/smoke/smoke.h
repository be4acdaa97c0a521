#pragma once
// The smoke suite: runs the built-in checks (health, auth, cors, plaintext, frontend, browser) and the declarative
// [[smoke.check]]s against one endpoint per service, and reports one result per check and service.
// run_smoke fails (Error) only when it cannot run at all; a failing check is a report with
// passed == false. Every secret it looks up is registered with base/redact.h, and every report writer
// masks registered secrets. Which checks apply to which service is in docs/smoke.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "config/config.h"

namespace villager::smoke {

// Where one service is reached: `base_url` gives scheme, Host and path prefix; `connect_to`
// ("host:port", optional) sends the connection elsewhere (a candidate slot behind its public name).
struct SmokeTarget {
  std::string service;
  std::string base_url;
  std::string connect_to;
};

using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Bytes the plaintext check scans that are not local files: an S3 object ("s3://bucket/key") or one
// CloudWatch Logs stream's messages joined by newlines ("logs:/aws/lambda/fn/stream").
struct ScanSource {
  std::string name;
  std::string bytes;
};
// Reads the remote storage and logs of an environment; log events from `since_ms` (milliseconds since
// the epoch) on. An error fails the plaintext check (the storage could not be checked).
using RemoteSources = std::function<Result<std::vector<ScanSource>>(int64_t since_ms)>;

struct SmokeOptions {
  std::vector<std::string> only;  // check names (built-in or declarative); empty: all
  SecretLookup secret;            // values for auth_secret, the access token, ${secret:NAME}
  // Folders or files scanned by the plaintext check besides [smoke] storage/logs (absolute): the
  // agent's data and log folders for a local environment. A missing one is noted, not failed.
  std::vector<std::filesystem::path> extra_scan_paths;
  // Remote storage and logs scanned by the plaintext check (a lambda environment's S3 transfers and
  // CloudWatch Logs, set up by the CLI so smoke does not link AWS); empty: none.
  RemoteSources remote_sources;
  std::string version;     // ${VERSION}
  Clock* clock = nullptr;  // retries and health deadlines; nullptr: the real clock
};

// One expectation that did not hold. `what` names the request ("GET http://h/x (no credential)") or
// the file ("data/transfers/ab/abcd/meta.json:120").
struct Failure {
  std::string what;
  std::string expected;
  std::string actual;
};

struct CheckResult {
  CheckResult() = default;
  CheckResult(std::string n, std::string s) : name(std::move(n)), service(std::move(s)) {}

  std::string name;     // "health", "auth", ..., or the [[smoke.check]] name
  std::string service;  // "" when the check is not about one service
  bool passed = true;
  bool skipped = false;  // not applicable (passed stays true); `notes` says why
  std::chrono::microseconds duration{0};
  std::vector<Failure> failures;
  std::vector<std::string> notes;  // what was not checked and why, counts
};

struct SmokeReport {
  bool passed = true;
  std::chrono::microseconds duration{0};
  std::vector<CheckResult> checks;
};

inline const std::vector<std::string> kBuiltinChecks = {"health",    "auth",     "cors",
                                                        "plaintext", "frontend", "browser"};

// Runs the suite. An unknown name in options.only, or a target for a service that is not in the
// config, is an InvalidArgument error.
Result<SmokeReport> run_smoke(const config::Config& config, const std::vector<SmokeTarget>& targets,
                              const SmokeOptions& options);

// One target per service of `env` (all when `services` is empty): http://LISTEN for a local environment,
// the configured URL for a url one. A service name that is not in the environment is InvalidArgument.
Result<std::vector<SmokeTarget>> environment_targets(const config::Config& config,
                                                     const config::EnvironmentConfig& env,
                                                     const std::vector<std::string>& services);
// What the plaintext check scans besides [smoke] storage/logs for a local environment (the layout the
// agent uses): <state>/data/<env>/<service>/, <state>/logs/<env>/<service>/ and <state>/logs/agent.log.
// Empty for a url environment (storage elsewhere is out of reach unless [smoke] names it).
std::vector<std::filesystem::path> local_scan_paths(const config::Config& config,
                                                    const config::EnvironmentConfig& env,
                                                    const std::vector<SmokeTarget>& targets);

// The JSON report (schema in docs/smoke.md), secrets masked.
std::string to_json(const SmokeReport& report);
// JUnit XML: one <testcase> per check result (classname "smoke.<service>"), secrets masked.
std::string to_junit(const SmokeReport& report);
// One line per check: mark, name, service, duration and the first failure; failures indented below.
// `tty` adds colour.
void print_human(const SmokeReport& report, std::ostream& out, bool tty);

}  // namespace villager::smoke
