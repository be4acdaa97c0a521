#pragma once
// Who may use the dashboard, and what they may do. Tokens follow the control API's scheme (one random
// token per file under <state>/tokens, mode 0600): `dashboard-read` (read-only, the default role) and
// `dashboard-operator` (may act), plus named ones, `dashboard-<role>-<name>.token`, whose name is who the
// audit log records. A browser trades a token for a session (an HttpOnly, SameSite=Strict cookie and a
// CSRF token); scripts send `Authorization: Bearer <token>` on every request. No token is ever sent back.

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::cli {

enum class DashboardRole { kRead, kOperator };
std::string_view to_string(DashboardRole role);  // "read" | "operator"

struct Principal {
  DashboardRole role = DashboardRole::kRead;
  std::string name{};     // the token's name: "read", "operator", or the NAME of a named token
  std::string session{};  // the session id when authenticated by cookie; "" for a bearer token
  std::string csrf{};     // the session's CSRF token ("" for a bearer token)
};

// What the HTTP layer hands over: the headers that matter, lower-cased names.
struct AuthRequest {
  std::string authorization{};  // "Bearer ..."
  std::string cookie{};
  std::string origin{};
  std::string host{};
  std::string csrf{};  // X-CSRF-Token
};

class DashboardAuth {
 public:
  static constexpr const char* kCookieName = "villager_session";
  static constexpr std::chrono::hours kSessionLifetime{12};
  static constexpr size_t kMaxSessions = 1000;

  // Reads every dashboard-*.token under <state_dir>/tokens, creating dashboard-read and
  // dashboard-operator when missing.
  static Result<DashboardAuth> load(const std::filesystem::path& state_dir);
  // For tests: tokens given directly as (token, role, name).
  struct TokenEntry {
    std::string token;
    DashboardRole role = DashboardRole::kRead;
    std::string name;
  };
  explicit DashboardAuth(std::vector<TokenEntry> tokens) : tokens_(std::move(tokens)) {}
  DashboardAuth(DashboardAuth&& other) noexcept : tokens_(std::move(other.tokens_)) {}

  // The principal of a bearer token or a live session cookie; nullopt = 401.
  std::optional<Principal> authenticate(const AuthRequest& req);
  // A new session for a valid token: returns the principal (with session and csrf set); nullopt when
  // the token is unknown.
  std::optional<Principal> open_session(const std::string& token);
  void close_session(const std::string& session);
  // Whether `p` may run an action for `req`: "" when allowed, else why (403). Operators only; a cookie
  // session must also send its CSRF token and an Origin equal to http(s)://Host (a bearer token is not
  // sent by a browser on its own, so it needs neither).
  std::string action_refusal(const Principal& p, const AuthRequest& req) const;

  // The Set-Cookie value for a session ("" = the clearing cookie), sent only to paths under `path`.
  // `secure`: the dashboard serves HTTPS, and the cookie is never sent over plain HTTP.
  static std::string session_cookie(const std::string& session, const std::string& path = "/",
                                    bool secure = false);

 private:
  struct Session {
    Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  std::vector<TokenEntry> tokens_;
  std::mutex mu_;
  std::map<std::string, Session> sessions_;  // Guarded by mu_.
};

// The value of cookie `name` in a Cookie header; "" when absent.
std::string cookie_value(const std::string& header, const std::string& name);

}  // namespace villager::cli
