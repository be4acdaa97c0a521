#pragma once
// send-server's configuration: command-line flags plus the environment variables SGraph Send reads, and
// the switchable faults (SEND_FAULT) that let tests and demos break the service on purpose.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"

namespace send_server {

enum class Mode { kUser, kAdmin };

// Faults named in SEND_FAULT (a comma list). Each is off by default; see docs/send-server.md.
struct Faults {
  bool open_admin = false;                  // admin skips the API key check
  bool cors_any = false;                    // any Origin is echoed, with credentials
  bool log_secrets = false;                 // access log records every header and the query string
  bool raw_ip = false;                      // meta.json stores the raw client IP
  bool no_health = false;                   // /info/health answers 503
  double error_rate = 0;                    // errors:P, fraction of API requests answered 500
  std::chrono::milliseconds latency{0};     // latency:MS added to every response
  uint64_t crash_after = 0;                 // crash-after:N, exit non-zero after N requests (0 = never)
  bool missing_asset = false;               // /assets/upload.js answers 404
  std::chrono::milliseconds slow_start{0};  // slow-start:MS before listening
  bool frontend_no_encrypt = false;         // upload page sends the file unencrypted
  bool frontend_leak_key = false;           // upload page puts the key in the upload URL's query string
  bool redirect_root = false;               // `/` answers 307 to the versioned page, as SGraph Send v0.3.5
  bool redirect_loop = false;               // `/` and `/send/` redirect to each other
  bool redirect_offsite = false;            // `/` answers 307 to another origin
  bool no_openapi = false;                  // openapi.json answers 404

  // The faults that are on, in SEND_FAULT syntax ("latency:200,raw-ip"); empty when none.
  std::string describe() const;
};

// Parses a SEND_FAULT value. Unknown names and bad arguments are errors (collected, reported once).
villager::Result<Faults> parse_faults(std::string_view text);

struct Config {
  Mode mode = Mode::kUser;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::filesystem::path data_dir;
  std::filesystem::path log_file;    // empty: access log to stderr
  std::filesystem::path static_dir;  // resolved at startup
  int threads = 2;
  std::string version;  // VILLAGER_RELEASE_VERSION, else the build version

  std::string api_key_name;               // FAST_API__AUTH__API_KEY__NAME (lower-cased header name)
  std::string api_key_value;              // FAST_API__AUTH__API_KEY__VALUE
  std::string access_token;               // SGRAPH_SEND__ACCESS_TOKEN; empty: every write is refused
  std::vector<std::string> cors_origins;  // SEND_CORS_ORIGINS
  // SEND_ROUTES: "api" (default; the API under /api, as SGraph Send v0.27) or "v0.3" (at the root, as
  // SGraph Send v0.3.5). The prefix of every API path and of openapi.json.
  std::string api_prefix = "/api";
  Faults faults;
};

struct ParsedArgs {
  Config config;
  bool help = false;
};

// Reads flags from argv and settings from `env`. Errors are usage errors (exit 2).
villager::Result<ParsedArgs> parse_config(const std::vector<std::string>& args,
                                          const std::map<std::string, std::string>& env,
                                          const std::filesystem::path& exe_dir);

const char* usage_text();

}  // namespace send_server
