#pragma once
// Internal to the smoke module: what every check gets (config, targets, options, one HTTP client,
// captured variables) and the helpers they share. Each built-in check is one function in its own file.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "net/http.h"
#include "net/url.h"
#include "smoke/sgraph_send/preset.h"
#include "smoke/smoke.h"

namespace villager::smoke {

class SmokeContext {
 public:
  SmokeContext(const config::Config& config, const std::vector<SmokeTarget>& targets,
               const SmokeOptions& options);

  const config::Config& config;
  const std::vector<SmokeTarget>& targets;
  const SmokeOptions& options;
  Clock& clock;
  std::map<std::string, std::string> vars;  // captured by declarative checks, for later ones

  // The secret's value (registered for masking), or nullopt when the lookup has none.
  std::optional<std::string> secret(const std::string& name);
  // Sends `req` with `path` joined to the target's base URL and the target's connect_to.
  Result<net::HttpResponse> send(const SmokeTarget& target, net::HttpRequest req, const std::string& path);
  // Sends `req` as is (absolute URL), through the target's connect_to when the host matches.
  Result<net::HttpResponse> send_url(const SmokeTarget& target, net::HttpRequest req);
  std::chrono::microseconds elapsed(SteadyTime since) const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock.steady_now() - since);
  }
  // Profile sgraph-send: the write and transfers paths for this run (preset by app version, or
  // [smoke.sgraph_send]); resolved on first use.
  const sgraph_send::AppPaths& paths();
  // Absolute paths: [smoke] storage (or logs) resolved against the config folder.
  std::vector<std::filesystem::path> configured(const std::vector<std::string>& rel) const;

 private:
  Result<net::HttpResponse> send_to(const SmokeTarget& target, net::HttpRequest req);

  net::HttpClient http_;
  std::optional<sgraph_send::AppPaths> paths_;
};

// "status 401, body {"status":"error"...}" trimmed to a readable length.
std::string describe(const net::HttpResponse& r);
// The first `n` bytes of a body, printable (control bytes as \xNN), with "..." when cut.
std::string excerpt(std::string_view body, size_t n = 120);
bool is_2xx(int status);
// Case-insensitive: does a comma-separated header value list `item` (e.g. Vary: Origin)?
bool header_lists(const std::optional<std::string>& value, std::string_view item);

// Built-in checks: each returns one result per service it applies to (a skipped result when none).
std::vector<CheckResult> check_health(SmokeContext& ctx);
std::vector<CheckResult> check_auth(SmokeContext& ctx);
std::vector<CheckResult> check_cors(SmokeContext& ctx);
std::vector<CheckResult> check_frontend(SmokeContext& ctx);
std::vector<CheckResult> check_browser(SmokeContext& ctx);
// One [[smoke.check]] against each target it names.
std::vector<CheckResult> check_declared(SmokeContext& ctx, const config::SmokeCheckConfig& check);

// Role rule (docs/smoke.md): the auth-protected service has protected_paths. The sgraph-send profile's
// transfers service is sgraph_send::is_transfers_service's.
bool is_protected_service(const config::ServiceConfig& s);

}  // namespace villager::smoke
