#pragma once
// The target of a load run: an http:// URL split into host, port and request target. https is refused
// (the generator speaks plain HTTP/1.1; put a TLS terminator's plain listener in front if needed).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace villager::load {

struct Url {
  std::string host;  // without brackets for an IPv6 literal
  uint16_t port = 80;
  std::string target;  // path and query, always starting with '/'

  // "host" or "host:port" (port omitted when 80; IPv6 literal in brackets), for the Host header.
  std::string authority() const;
  // "http://authority/target".
  std::string to_string() const;
};

// Parses "http://host[:port][/path][?query]". Fragments are dropped. Errors are InvalidArgument.
Result<Url> parse_url(std::string_view text);

}  // namespace villager::load
