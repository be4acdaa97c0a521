#include "config.h"

#include <algorithm>
#include <cstdlib>

#include "base/strings.h"

#ifndef SEND_BUILD_VERSION
#define SEND_BUILD_VERSION "v0.0.0"
#endif
#ifndef SEND_SOURCE_STATIC_DIR
#define SEND_SOURCE_STATIC_DIR ""
#endif

namespace send_server {

using villager::Error;
using villager::InvalidArgument;
using villager::Result;

namespace {

Result<int64_t> parse_int(std::string_view what, std::string_view text, int64_t min, int64_t max) {
  if (text.empty()) return InvalidArgument(std::string(what) + ": missing number");
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return InvalidArgument(std::string(what) + ": not a number: '" + std::string(text) + "'");
    v = v * 10 + (c - '0');
    if (v > max) break;
  }
  if (v < min || v > max) {
    return InvalidArgument(std::string(what) + ": " + std::string(text) + " is out of range " +
                           std::to_string(min) + ".." + std::to_string(max));
  }
  return v;
}

Result<double> parse_fraction(std::string_view what, std::string_view text) {
  char* end = nullptr;
  std::string s(text);
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(v >= 0.0 && v <= 1.0)) {
    return InvalidArgument(std::string(what) + ": expected a fraction between 0 and 1, got '" + s + "'");
  }
  return v;
}

const std::vector<std::string> kFaultNames = {"open-admin",
                                              "cors-any",
                                              "log-secrets",
                                              "raw-ip",
                                              "no-health",
                                              "errors",
                                              "latency",
                                              "crash-after",
                                              "missing-asset",
                                              "slow-start",
                                              "frontend-no-encrypt",
                                              "frontend-leak-key",
                                              "redirect-root",
                                              "redirect-loop",
                                              "redirect-offsite",
                                              "no-openapi"};

}  // namespace

std::string Faults::describe() const {
  std::vector<std::string> on;
  if (open_admin) on.push_back("open-admin");
  if (cors_any) on.push_back("cors-any");
  if (log_secrets) on.push_back("log-secrets");
  if (raw_ip) on.push_back("raw-ip");
  if (no_health) on.push_back("no-health");
  if (error_rate > 0) on.push_back("errors:" + std::to_string(error_rate));
  if (latency.count() > 0) on.push_back("latency:" + std::to_string(latency.count()));
  if (crash_after > 0) on.push_back("crash-after:" + std::to_string(crash_after));
  if (missing_asset) on.push_back("missing-asset");
  if (slow_start.count() > 0) on.push_back("slow-start:" + std::to_string(slow_start.count()));
  if (frontend_no_encrypt) on.push_back("frontend-no-encrypt");
  if (frontend_leak_key) on.push_back("frontend-leak-key");
  if (redirect_root) on.push_back("redirect-root");
  if (redirect_loop) on.push_back("redirect-loop");
  if (redirect_offsite) on.push_back("redirect-offsite");
  if (no_openapi) on.push_back("no-openapi");
  return villager::join(on, ",");
}

Result<Faults> parse_faults(std::string_view text) {
  Faults f;
  std::vector<std::string> errors;
  for (const std::string& raw : villager::split(text, ',')) {
    std::string item(villager::trim(raw));
    if (item.empty()) continue;
    std::string name = item, arg;
    bool has_arg = false;
    if (auto colon = item.find(':'); colon != std::string::npos) {
      name = item.substr(0, colon);
      arg = item.substr(colon + 1);
      has_arg = true;
    }
    bool known = std::find(kFaultNames.begin(), kFaultNames.end(), name) != kFaultNames.end();
    if (!known) {
      std::string hint = villager::suggest(name, kFaultNames);
      errors.push_back("unknown fault '" + name + "'" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      continue;
    }
    bool wants_arg = name == "errors" || name == "latency" || name == "crash-after" || name == "slow-start";
    if (has_arg != wants_arg) {
      errors.push_back(wants_arg ? "fault '" + name + "' needs an argument (" + name + ":VALUE)"
                                 : "fault '" + name + "' takes no argument");
      continue;
    }
    auto note = [&](const Error& e) { errors.push_back(e.message); };
    if (name == "open-admin") {
      f.open_admin = true;
    } else if (name == "cors-any") {
      f.cors_any = true;
    } else if (name == "log-secrets") {
      f.log_secrets = true;
    } else if (name == "raw-ip") {
      f.raw_ip = true;
    } else if (name == "no-health") {
      f.no_health = true;
    } else if (name == "missing-asset") {
      f.missing_asset = true;
    } else if (name == "frontend-no-encrypt") {
      f.frontend_no_encrypt = true;
    } else if (name == "frontend-leak-key") {
      f.frontend_leak_key = true;
    } else if (name == "redirect-root") {
      f.redirect_root = true;
    } else if (name == "redirect-loop") {
      f.redirect_loop = true;
    } else if (name == "redirect-offsite") {
      f.redirect_offsite = true;
    } else if (name == "no-openapi") {
      f.no_openapi = true;
    } else if (name == "errors") {
      if (auto p = parse_fraction("errors", arg))
        f.error_rate = *p;
      else
        note(p.error());
    } else if (name == "latency") {
      if (auto v = parse_int("latency", arg, 0, 600000))
        f.latency = std::chrono::milliseconds(*v);
      else
        note(v.error());
    } else if (name == "crash-after") {
      if (auto v = parse_int("crash-after", arg, 1, 1000000000))
        f.crash_after = *v;
      else
        note(v.error());
    } else if (name == "slow-start") {
      if (auto v = parse_int("slow-start", arg, 0, 600000))
        f.slow_start = std::chrono::milliseconds(*v);
      else
        note(v.error());
    }
  }
  if (!errors.empty()) return InvalidArgument("SEND_FAULT: " + villager::join(errors, "; "));
  return f;
}

const char* usage_text() {
  return R"(usage: send-server --mode user|admin --port N --data DIR [--log FILE] [--host ADDR]
                   [--static DIR] [--threads N]

A small reference service with SGraph Send's API shape (see docs/send-server.md).

flags:
  --mode user|admin  which service to run (default user)
  --port N           TCP port to listen on (required)
  --host ADDR        address to listen on (default 127.0.0.1)
  --data DIR         storage root: DIR/transfers/..., DIR/tokens/... (required)
  --log FILE         access log, one line per request (default: stderr)
  --static DIR       frontend files (default: <dir of executable>/static, then the source tree)
  --threads N        I/O threads (default 2)
  --help             this text

environment:
  FAST_API__AUTH__API_KEY__NAME, FAST_API__AUTH__API_KEY__VALUE   admin key header (or cookie) and value
  SGRAPH_SEND__ACCESS_TOKEN   user access token for writes; unset: every write is refused
  SEND_CORS_ORIGINS           comma-separated allowed origins
  VILLAGER_RELEASE_VERSION    version reported in x-service-version and /info/health
  SEND_FAULT                  comma list of faults: open-admin, cors-any, log-secrets, raw-ip, no-health,
                              errors:P, latency:MS, crash-after:N, missing-asset, slow-start:MS,
                              frontend-no-encrypt, frontend-leak-key, redirect-root, redirect-loop,
                              redirect-offsite, no-openapi
  SEND_ROUTES                 api (default: /api/transfers/..., /api/openapi.json) or v0.3 (/transfers/...,
                              /openapi.json, as SGraph Send v0.3.5)
)";
}

Result<ParsedArgs> parse_config(const std::vector<std::string>& args,
                                const std::map<std::string, std::string>& env,
                                const std::filesystem::path& exe_dir) {
  ParsedArgs out;
  Config& c = out.config;
  bool have_port = false;
  std::string static_flag;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    bool inline_value = false;
    if (auto eq = flag.find('='); eq != std::string::npos && villager::starts_with(flag, "--")) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      inline_value = true;
    }
    if (flag == "--help" || flag == "-h") {
      out.help = true;
      return out;
    }
    static const std::vector<std::string> kFlags = {"--mode", "--port",   "--host",   "--data",
                                                    "--log",  "--static", "--threads"};
    if (std::find(kFlags.begin(), kFlags.end(), flag) == kFlags.end()) {
      std::string hint = villager::suggest(flag, kFlags);
      return InvalidArgument("unknown flag '" + flag + "'" +
                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) return InvalidArgument(flag + ": missing value");
      value = args[++i];
    }
    if (flag == "--mode") {
      if (value == "user")
        c.mode = Mode::kUser;
      else if (value == "admin")
        c.mode = Mode::kAdmin;
      else
        return InvalidArgument("--mode: expected 'user' or 'admin', got '" + value + "'");
    } else if (flag == "--port") {
      auto p = parse_int("--port", value, 1, 65535);
      if (!p) return p.error();
      c.port = static_cast<uint16_t>(*p);
      have_port = true;
    } else if (flag == "--host") {
      c.host = value;
    } else if (flag == "--data") {
      c.data_dir = value;
    } else if (flag == "--log") {
      c.log_file = value;
    } else if (flag == "--static") {
      static_flag = value;
    } else if (flag == "--threads") {
      auto t = parse_int("--threads", value, 1, 64);
      if (!t) return t.error();
      c.threads = static_cast<int>(*t);
    }
  }
  if (!have_port) return InvalidArgument("--port is required");
  if (c.data_dir.empty()) return InvalidArgument("--data is required");

  auto get = [&](const char* name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  c.version = get("VILLAGER_RELEASE_VERSION");
  if (c.version.empty()) c.version = SEND_BUILD_VERSION;
  c.api_key_name = villager::to_lower(villager::trim(get("FAST_API__AUTH__API_KEY__NAME")));
  c.api_key_value = get("FAST_API__AUTH__API_KEY__VALUE");
  c.access_token = get("SGRAPH_SEND__ACCESS_TOKEN");
  for (const std::string& o : villager::split(get("SEND_CORS_ORIGINS"), ',')) {
    std::string origin(villager::trim(o));
    if (!origin.empty()) c.cors_origins.push_back(origin);
  }
  std::string routes = get("SEND_ROUTES");
  if (routes == "v0.3")
    c.api_prefix = "";
  else if (!routes.empty() && routes != "api")
    return InvalidArgument("SEND_ROUTES: expected 'api' or 'v0.3', got '" + routes + "'");
  auto faults = parse_faults(get("SEND_FAULT"));
  if (!faults) return faults.error();
  c.faults = *faults;

  // The frontend: an explicit flag, else next to the binary (installed or build dir), else the source tree.
  namespace fs = std::filesystem;
  if (!static_flag.empty()) {
    c.static_dir = static_flag;
    if (!fs::is_directory(c.static_dir))
      return InvalidArgument("--static " + static_flag + ": not a directory");
  } else if (fs::is_directory(exe_dir / "static")) {
    c.static_dir = exe_dir / "static";
  } else {
    c.static_dir = SEND_SOURCE_STATIC_DIR;
  }
  return out;
}

}  // namespace send_server
