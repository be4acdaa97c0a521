#include "cli/dashboard_auth.h"

#include <fstream>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"
#include "targets/tokens.h"

namespace villager::cli {

namespace {

// 32 random bytes as hex: session ids and CSRF tokens.
std::string random_hex() {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(32, '\0');
  in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  if (!in) std::abort();  // no randomness: never hand out a guessable session
  return hex_encode(raw);
}

}  // namespace

std::string_view to_string(DashboardRole role) {
  return role == DashboardRole::kOperator ? "operator" : "read";
}

Result<DashboardAuth> DashboardAuth::load(const std::filesystem::path& state_dir) {
  for (const char* name : {"dashboard-read", "dashboard-operator"}) {
    auto t = targets::load_or_create_token(state_dir, name);
    if (!t) return t.error().context("dashboard token " + std::string(name));
  }
  std::vector<TokenEntry> tokens;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(state_dir / "tokens", ec)) {
    std::string file = e.path().filename().string();
    if (!starts_with(file, "dashboard-") || e.path().extension() != ".token") continue;
    std::string stem = e.path().stem().string().substr(std::string("dashboard-").size());
    std::string role_text = stem.substr(0, stem.find('-'));
    std::string name = stem.find('-') == std::string::npos ? role_text : stem.substr(stem.find('-') + 1);
    DashboardRole role;
    if (role_text == "read")
      role = DashboardRole::kRead;
    else if (role_text == "operator")
      role = DashboardRole::kOperator;
    else
      return InvalidArgument(e.path().string() + ": unknown dashboard role '" + role_text +
                             "' (read or operator)");
    auto token = targets::read_token(state_dir, e.path().stem().string());
    if (!token) return token.error();
    tokens.push_back({*token, role, name});
  }
  if (ec) return Unavailable("reading " + (state_dir / "tokens").string() + ": " + ec.message());
  return DashboardAuth(std::move(tokens));
}

std::optional<Principal> DashboardAuth::authenticate(const AuthRequest& req) {
  if (starts_with(req.authorization, "Bearer ")) {
    std::string token = req.authorization.substr(7);
    for (const auto& t : tokens_)
      if (constant_time_equal(t.token, token)) return Principal{t.role, t.name, "", ""};
    return std::nullopt;
  }
  std::string session = cookie_value(req.cookie, kCookieName);
  if (session.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() > it->second.expires) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

std::optional<Principal> DashboardAuth::open_session(const std::string& token) {
  for (const auto& t : tokens_) {
    if (!constant_time_equal(t.token, token)) continue;
    Principal p{t.role, t.name, random_hex(), random_hex()};
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    std::erase_if(sessions_, [&](const auto& kv) { return now > kv.second.expires; });
    if (sessions_.size() >= kMaxSessions) sessions_.erase(sessions_.begin());
    sessions_[p.session] = {p, now + kSessionLifetime};
    return p;
  }
  return std::nullopt;
}

void DashboardAuth::close_session(const std::string& session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
}

std::string DashboardAuth::action_refusal(const Principal& p, const AuthRequest& req) const {
  if (p.role != DashboardRole::kOperator)
    return "the " + std::string(to_string(p.role)) + " role cannot act: use an operator token";
  if (p.session.empty()) return "";
  if (req.csrf.empty() || !constant_time_equal(req.csrf, p.csrf))
    return "missing or wrong X-CSRF-Token for this session";
  if (req.origin != "http://" + req.host && req.origin != "https://" + req.host)
    return "cross-origin request refused (Origin '" + req.origin + "' is not this dashboard)";
  return "";
}

std::string DashboardAuth::session_cookie(const std::string& session, const std::string& path, bool secure) {
  std::string attributes =
      "; Path=" + path + (secure ? "; Secure" : "") + "; HttpOnly; SameSite=Strict; Max-Age=";
  if (session.empty()) return std::string(kCookieName) + "=" + attributes + "0";
  return std::string(kCookieName) + "=" + session + attributes +
         std::to_string(std::chrono::seconds(kSessionLifetime).count());
}

std::string cookie_value(const std::string& header, const std::string& name) {
  for (const auto& part : split(header, ';')) {
    std::string p(trim(part));
    if (starts_with(p, name + "=")) return p.substr(name.size() + 1);
  }
  return "";
}

}  // namespace villager::cli
