#include "proxy/http_rules.h"

#include <string>
#include <vector>

#include "base/strings.h"

namespace villager::proxy {

namespace http = boost::beast::http;

void strip_hop_by_hop(http::fields& fields) {
  auto connection = fields.find(http::field::connection);
  if (connection != fields.end()) {
    // Headers named in Connection are hop-by-hop too ("Connection: close, X-Foo").
    std::vector<std::string> named;
    for (auto token : http::token_list(connection->value())) named.emplace_back(token);
    for (const auto& name : named) {
      if (!boost::beast::iequals(name, "close") && !boost::beast::iequals(name, "keep-alive"))
        fields.erase(name);
    }
    fields.erase(http::field::connection);
  }
  fields.erase(http::field::keep_alive);
  fields.erase(http::field::proxy_connection);
  fields.erase(http::field::te);
  fields.erase(http::field::trailer);
  fields.erase(http::field::transfer_encoding);
  fields.erase(http::field::upgrade);
  fields.erase(http::field::proxy_authenticate);
  fields.erase(http::field::proxy_authorization);
}

void add_forwarded(Request& req, std::string_view peer, std::string_view proto) {
  auto it = req.find("X-Forwarded-For");
  if (it == req.end()) {
    req.set("X-Forwarded-For", peer);
  } else {
    std::string value(it->value());
    value += ", ";
    value += peer;
    req.set("X-Forwarded-For", value);
  }
  req.set("X-Forwarded-Proto", proto);
}

bool is_idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
    case http::verb::put:
    case http::verb::delete_:
      return true;
    default:
      return false;
  }
}

Response error_response(http::status status, std::string_view message, unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = "{\"status\":\"error\",\"message\":" + quote(message) + "}";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace villager::proxy
