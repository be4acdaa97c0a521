#include "net/url.h"

#include <charconv>

#include "base/strings.h"

namespace villager::net {

namespace {

uint16_t default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string encode(std::string_view s, const char* digits) {
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string Url::host_port() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string o = scheme + "://" + h;
  if (port != default_port(scheme)) o += ":" + std::to_string(port);
  return o;
}

std::string url_origin(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  std::string_view host = url.substr(start, url.find('/', start) - start);
  if (size_t at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1);
  return std::string(url.substr(0, start)) + std::string(host);
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("bad URL '" + std::string(text) + "': " + why);
  };
  Url u;
  size_t p = text.find("://");
  if (p == std::string_view::npos) return bad("expected http:// or https://");
  u.scheme = to_lower(text.substr(0, p));
  if (u.scheme != "http" && u.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = text.substr(p + 3);
  if (size_t f = rest.find('#'); f != std::string_view::npos) rest = rest.substr(0, f);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not allowed");
  std::string_view port_text;
  if (starts_with(authority, "[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("unexpected text after ']'");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) return bad("empty host");
  u.host = to_lower(u.host);
  u.port = default_port(u.scheme);
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || v == 0 || v > 65535)
      return bad("bad port '" + std::string(port_text) + "'");
    u.port = static_cast<uint16_t>(v);
  }
  u.target = target.empty() ? "/" : (target[0] == '?' ? "/" + std::string(target) : std::string(target));
  return u;
}

std::string join_url(std::string_view base, std::string_view path) {
  if (starts_with(path, "http://") || starts_with(path, "https://")) return std::string(path);
  std::string b(base);
  while (!b.empty() && b.back() == '/') b.pop_back();
  if (path.empty()) return b + "/";
  return path[0] == '/' ? b + std::string(path) : b + "/" + std::string(path);
}

std::string resolve_reference(const Url& page, std::string_view ref) {
  ref = trim(ref);
  if (ref.empty() || ref[0] == '#') return "";
  if (starts_with(ref, "//")) return page.scheme + ":" + std::string(ref);
  size_t colon = ref.find(':');
  size_t first_sep = ref.find_first_of("/?#");
  if (colon != std::string_view::npos && (first_sep == std::string_view::npos || colon < first_sep)) {
    std::string scheme = to_lower(ref.substr(0, colon));
    return scheme == "http" || scheme == "https" ? std::string(ref) : "";
  }
  std::string r(ref);
  if (size_t f = r.find('#'); f != std::string::npos) r.resize(f);
  if (r[0] == '/') return page.origin() + r;
  std::string dir = page.target.substr(0, page.target.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return page.origin() + dir + r;
}

std::string percent_encode(std::string_view s) {
  return encode(s, "0123456789ABCDEF");
}
std::string percent_encode_lower(std::string_view s) {
  return encode(s, "0123456789abcdef");
}

}  // namespace villager::net
