#pragma once
// The sgraph-send profile inside the smoke module (config: profile = "sgraph-send", [smoke.sgraph_send]):
// what the generic checks ask it and the one check only it runs. SGraph Send's transfers service is the
// service listing the access token secret; its write endpoint is auth's and cors's extra request; the
// plaintext check acts as its browser client; its upload page is the browser check's default steps.
// Under profile "none" every question here answers "nothing", so no x-sgraph-* header or transfers path
// is used anywhere.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "smoke/smoke.h"

namespace villager::smoke {
class SmokeContext;
}

namespace villager::smoke::sgraph_send {

// The profile is on and `s` lists the access token secret.
bool is_transfers_service(const config::Config& c, const config::ServiceConfig& s);

// The transfers service's write endpoint: the path a request without a valid token must be refused at,
// and the header that carries the token. nullopt: not the transfers service, or write_path "" (off).
struct WriteEndpoint {
  std::string path;
  std::string token_header;
  std::string explanation;  // how the path was chosen (preset, app version)
};
std::optional<WriteEndpoint> write_endpoint(SmokeContext& ctx, const config::ServiceConfig& s);

// The failure for a 404 on a configured app path: the path is missing, not the auth wrong (`key` is
// "write_path" or "transfers_path").
Failure missing_path(SmokeContext& ctx, const std::string& line, const std::string& key);

// plaintext: a transfer round trip as SGraph Send's browser client, then storage and logs scanned for
// every canary and meta.json's fields checked. One result per transfers service (skipped when none).
std::vector<CheckResult> check_plaintext(SmokeContext& ctx);

// The upload page's flow as browser steps, from [smoke.browser] fill/file_input/submit/result/download:
// wait for the file input, fill, upload, submit, wait for the result link (its href captured), the
// marker and the link's #fragment key never sent, then (with download) the way back.
std::vector<config::BrowserStep> upload_flow_steps(const config::SmokeBrowserConfig& b);

}  // namespace villager::smoke::sgraph_send
