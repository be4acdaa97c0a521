#include "load/url.h"

#include <charconv>

#include "base/strings.h"

namespace villager::load {

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == 80 ? h : h + ":" + std::to_string(port);
}

std::string Url::to_string() const {
  return "http://" + authority() + target;
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string why) { return InvalidArgument("URL '" + std::string(text) + "': " + why); };
  std::string_view rest = text;
  if (starts_with(to_lower(rest.substr(0, 8)), "https://"))
    return bad("https is not supported; use a plain http:// listener");
  if (!starts_with(to_lower(rest.substr(0, 7)), "http://")) return bad("must start with http://");
  rest.remove_prefix(7);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t slash = rest.find_first_of("/?");
  std::string_view auth = rest.substr(0, slash);
  Url url;
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target[0] == '?') url.target.insert(url.target.begin(), '/');
  if (auth.find('@') != std::string_view::npos) return bad("user info is not supported");
  std::string_view port_text;
  if (!auth.empty() && auth[0] == '[') {
    size_t close = auth.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    url.host = std::string(auth.substr(1, close - 1));
    std::string_view after = auth.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("unexpected text after IPv6 literal");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = auth.rfind(':');
    url.host = std::string(auth.substr(0, colon));
    if (colon != std::string_view::npos) port_text = auth.substr(colon + 1);
  }
  if (url.host.empty()) return bad("missing host");
  if (!port_text.empty() || auth.ends_with(':')) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return bad("bad port '" + std::string(port_text) + "'");
    url.port = static_cast<uint16_t>(port);
  }
  return url;
}

}  // namespace villager::load
