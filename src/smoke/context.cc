#include "smoke/context.h"

#include <algorithm>

#include "base/redact.h"
#include "base/strings.h"
#include "net/url.h"

namespace villager::smoke {

SmokeContext::SmokeContext(const config::Config& c, const std::vector<SmokeTarget>& t, const SmokeOptions& o)
    : config(c), targets(t), options(o), clock(o.clock ? *o.clock : real_clock()) {}

std::optional<std::string> SmokeContext::secret(const std::string& name) {
  if (!options.secret) return std::nullopt;
  auto v = options.secret(name);
  if (v && !v->empty()) register_secret(*v);
  if (v && v->empty()) return std::nullopt;
  return v;
}

Result<net::HttpResponse> SmokeContext::send(const SmokeTarget& target, net::HttpRequest req,
                                             const std::string& path) {
  req.url = net::join_url(target.base_url, path);
  req.connect_to = target.connect_to;
  return send_to(target, std::move(req));
}

// The target's trust root, and a hint when a certificate from a private CA fails the system's store.
Result<net::HttpResponse> SmokeContext::send_to(const SmokeTarget& target, net::HttpRequest req) {
  req.ca_file = target.ca_file;
  auto r = http_.send(req);
  if (!r && r.error().code == Code::kFailedPrecondition && target.ca_file.empty())
    return Error{r.error().code,
                 r.error().message + " (a certificate from a private CA: name it in [agent] tls_ca)"};
  return r;
}

Result<net::HttpResponse> SmokeContext::send_url(const SmokeTarget& target, net::HttpRequest req) {
  auto base = net::parse_url(target.base_url);
  auto url = net::parse_url(req.url);
  if (base && url && base->host == url->host && base->port == url->port) req.connect_to = target.connect_to;
  return send_to(target, std::move(req));
}

const sgraph_send::AppPaths& SmokeContext::paths() {
  if (!paths_) paths_ = sgraph_send::resolve_app_paths(*this);
  return *paths_;
}

std::vector<std::filesystem::path> SmokeContext::configured(const std::vector<std::string>& rel) const {
  std::vector<std::filesystem::path> out;
  for (const auto& r : rel) {
    std::filesystem::path p(r);
    out.push_back(p.is_absolute() ? p : config.root / p);
  }
  return out;
}

std::string excerpt(std::string_view body, size_t n) {
  std::string out;
  for (size_t i = 0; i < body.size() && i < n; ++i) {
    unsigned char c = body[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (body.size() > n) out += "...";
  return out;
}

std::string describe(const net::HttpResponse& r) {
  std::string s = "status " + std::to_string(r.status);
  if (!r.body.empty()) s += ", body " + excerpt(r.body, 80);
  return s;
}

bool is_2xx(int status) {
  return status >= 200 && status < 300;
}

bool header_lists(const std::optional<std::string>& value, std::string_view item) {
  if (!value) return false;
  for (const auto& part : split(*value, ','))
    if (to_lower(trim(part)) == to_lower(item)) return true;
  return false;
}

bool is_protected_service(const config::ServiceConfig& s) {
  return !s.protected_paths.empty();
}

}  // namespace villager::smoke
