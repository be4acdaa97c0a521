#pragma once
// The smoke suite: runs the built-in checks (health, auth, cors, plaintext, frontend, browser) and the
// declarative
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
// ("host:port", optional) sends the connection elsewhere (a candidate slot behind its public name);
// `ca_file` (optional) is the trust root for an https:// base URL, as config::PublicAddress gives them.
struct SmokeTarget {
  std::string service;
  std::string base_url;
  std::string connect_to;
  std::string ca_file;
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

// A finding accepted by signed waivers (docs/smoke.md, "Waivers"): who signed, why, until when.
struct Waived {
  std::string by;             // "appsec-lead (appsec)", several joined by ", "
  std::string note;           // the waivers' notes, joined by "; "
  SystemTime until;           // the earliest expiry among them
  bool expires_soon = false;  // within kWaiverWarning of `until`
};
// What the waivers filed for one finding amount to: accepted (waived set), and why others were refused.
struct WaiverVerdict {
  std::optional<Waived> waived;
  std::vector<std::string> refused;
};
// Looks up the waivers for a finding (check, service, fingerprint) of the environment under test. The
// CLI supplies it from the gate (smoke does not link the gate); unset: no finding is ever waived.
using WaiverLookup =
    std::function<WaiverVerdict(const std::string& check, const std::string& service, const std::string& fp)>;
inline constexpr std::chrono::hours kWaiverWarning{24 * 3};

struct SmokeOptions {
  std::vector<std::string> only;  // check names (built-in or declarative); empty: all
  SecretLookup secret;            // values for auth_secret, the access token, ${secret:NAME}
  // Folders or files scanned by the plaintext check besides [smoke] storage/logs (absolute): the
  // agent's data and log folders for a local environment. A missing one is noted, not failed.
  std::vector<std::filesystem::path> extra_scan_paths;
  // Bytes the plaintext check scans that must not be opened as files here, read when the scan runs:
  // villager's own state.db, which this process holds through SQLite (opening and closing the file
  // would drop SQLite's locks on it). Unset: none. An error fails the check.
  std::function<Result<std::vector<ScanSource>>()> extra_scan_sources;
  // Remote storage and logs scanned by the plaintext check (a lambda environment's S3 transfers and
  // CloudWatch Logs, set up by the CLI so smoke does not link AWS); empty: none.
  RemoteSources remote_sources;
  WaiverLookup waivers;
  std::string version;     // ${VERSION}; also the app version a preset reads when openapi.json is absent
  Clock* clock = nullptr;  // retries and health deadlines; nullptr: the real clock
};

// One expectation that did not hold. `what` names the request ("GET http://h/x (no credential)") or
// the file ("data/transfers/ab/abcd/meta.json:120").
struct Failure {
  Failure() = default;
  Failure(std::string w, std::string e, std::string a)
      : what(std::move(w)), expected(std::move(e)), actual(std::move(a)) {}

  std::string what;
  std::string expected;
  std::string actual;
  // Set by run_smoke: the finding's fingerprint (finding_fingerprint) and, when signed waivers accept it,
  // who waived it.
  std::string fingerprint;
  std::optional<Waived> waived;
  std::vector<std::string> waiver_refused;  // waivers filed for this finding that were not accepted
};

// "fp:" + 20 hex digits of SHA-256 over the check, the service and what was observed (the failure's
// what/expected/actual with the target's origin removed, so a candidate slot and the public address give
// the same fingerprint). The same observation gives the same fingerprint on every run.
std::string finding_fingerprint(const std::string& check, const std::string& service,
                                const std::string& base_url, const Failure& f);

// One redirect the frontend check followed: `from` answered `status` with `location` (as sent).
struct Redirect {
  std::string from;
  int status = 0;
  std::string location;
};

struct CheckResult {
  CheckResult() = default;
  CheckResult(std::string n, std::string s) : name(std::move(n)), service(std::move(s)) {}

  std::string name;     // "health", "auth", ..., or the [[smoke.check]] name
  std::string service;  // "" when the check is not about one service
  bool passed = true;
  bool skipped = false;  // not applicable (passed stays true); `notes` says why
  bool waived = false;   // it has findings, every one waived (passed is true)
  std::chrono::microseconds duration{0};
  std::vector<Failure> failures;
  std::vector<std::string> notes;   // what was not checked and why, counts
  std::vector<Redirect> redirects;  // frontend: every hop followed, in order
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
