#pragma once
// URL helpers for the HTTP client and the checks: parsing an absolute http(s) URL into parts, joining a
// base URL with a path, and percent-encoding (the smoke scan looks for secrets in encoded forms).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace villager::net {

struct Url {
  std::string scheme;  // "http" | "https"
  std::string host;    // "127.0.0.1", "::1" (no brackets), "send.example"
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path and query, always starting with "/"

  // "http://127.0.0.1:8080" (default ports omitted, IPv6 bracketed).
  std::string origin() const;
  std::string to_string() const { return origin() + target; }
  // "127.0.0.1:8080" / "[::1]:8080", always with the port.
  std::string host_port() const;
};

// Parses "http://host[:port][/path][?query]" (the fragment is dropped). Rejects other schemes,
// user info and empty hosts.
Result<Url> parse_url(std::string_view text);

// "http://host:port" of any URL text, for naming a destination in messages and documents: no path or
// query (a Slack hook keeps its secret there) and no user info. Works on text parse_url refuses.
std::string url_origin(std::string_view url);

// Joins a base URL ("http://h:1/prefix/") and a path ("/info/health") with exactly one slash between.
// A path that is already an absolute URL is returned unchanged.
std::string join_url(std::string_view base, std::string_view path);

// Resolves a reference found in a page (absolute, scheme-relative, root-relative or relative) against
// the page's URL. Returns "" for references that are not http(s) (data:, javascript:, mailto:, #frag).
std::string resolve_reference(const Url& page, std::string_view ref);

// RFC 3986 percent-encoding of everything but unreserved characters (uppercase hex digits).
std::string percent_encode(std::string_view s);
// The same with lowercase hex digits (some servers and loggers write these).
std::string percent_encode_lower(std::string_view s);

}  // namespace villager::net
