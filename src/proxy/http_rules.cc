#include "proxy/http_rules.h"

#include <string>
#include <vector>

#include "base/strings.h"

namespace villager::proxy {

namespace http = boost::beast::http;

void strip_hop_by_hop(http::fields& fields) {
  // Headers named in Connection are hop-by-hop too ("Connection: close, X-Foo"); read before the pass
  // below erases Connection itself.
  std::vector<std::string> named;
  if (auto connection = fields.find(http::field::connection); connection != fields.end()) {
    for (auto token : http::token_list(connection->value())) {
      if (!boost::beast::iequals(token, "close") && !boost::beast::iequals(token, "keep-alive"))
        named.emplace_back(token);
    }
  }
  // One pass over the fields, comparing the parsed field enum, instead of one tree lookup per name.
  for (auto it = fields.begin(); it != fields.end();) {
    switch (it->name()) {
      case http::field::connection:
      case http::field::keep_alive:
      case http::field::proxy_connection:
      case http::field::te:
      case http::field::trailer:
      case http::field::transfer_encoding:
      case http::field::upgrade:
      case http::field::proxy_authenticate:
      case http::field::proxy_authorization:
        it = fields.erase(it);
        break;
      default:
        ++it;
    }
  }
  for (const auto& name : named) fields.erase(name);
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

namespace {

void append_version(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_fields(const http::fields& fields, std::string& out) {
  for (const auto& f : fields) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

void serialize_head(const Request& req, std::string& out) {
  out.clear();
  out += req.method_string();
  out += ' ';
  out += req.target();
  out += ' ';
  append_version(req.version(), out);
  out += "\r\n";
  append_fields(req, out);
}

void serialize_head(const Response& res, std::string& out) {
  out.clear();
  append_version(res.version(), out);
  out += ' ';
  const unsigned code = res.result_int();
  out += static_cast<char>('0' + code / 100 % 10);
  out += static_cast<char>('0' + code / 10 % 10);
  out += static_cast<char>('0' + code % 10);
  out += ' ';
  if (res.reason().empty()) {
    out += http::obsolete_reason(res.result());
  } else {
    out += res.reason();
  }
  out += "\r\n";
  append_fields(res, out);
}

}  // namespace villager::proxy
