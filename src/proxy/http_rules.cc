#include "proxy/http_rules.h"

#include <cctype>
#include <string>
#include <vector>

#include "base/strings.h"

namespace villager::proxy {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

bool has_control_character(std::string_view value) {
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string framing_problem(const http::request_header<>& req) {
  const size_t lengths = req.count(http::field::content_length);
  const size_t codings = req.count(http::field::transfer_encoding);
  if (lengths > 1) return "repeated Content-Length";
  if (lengths == 1 && req[http::field::content_length].find(',') != std::string_view::npos)
    return "Content-Length with several values";
  if (codings > 0 && lengths > 0) return "both Transfer-Encoding and Content-Length";
  if (codings > 1) return "repeated Transfer-Encoding";
  if (codings == 1) {
    if (req.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
    // Only `chunked` alone: any other coding (or one before chunked) would reach the release without
    // its Transfer-Encoding, which is hop-by-hop and stripped.
    const auto coding = req[http::field::transfer_encoding];
    if (!boost::beast::iequals(trim(std::string_view(coding.data(), coding.size())), "chunked"))
      return "Transfer-Encoding other than chunked";
  }
  const size_t hosts = req.count(http::field::host);
  if (hosts > 1) return "repeated Host";
  if (hosts == 0 && req.version() >= 11) return "missing Host";
  for (const auto& f : req) {
    if (has_control_character(std::string_view(f.value().data(), f.value().size())))
      return "control character in a field value";
  }
  return {};
}

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

void add_forwarded(http::request_header<>& req, std::string_view peer, std::string_view proto,
                   ClientForwarded mode) {
  if (mode == ClientForwarded::kDrop) {
    req.erase("X-Forwarded-For");
    req.erase("X-Forwarded-Proto");
    req.erase("X-Forwarded-Host");
    req.erase(http::field::forwarded);
  }
  // Repeated copies are joined into one list (RFC 9110 5.3), then the peer goes last.
  std::string forwarded_for;
  for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) {
    forwarded_for += it->value();
    forwarded_for += ", ";
  }
  forwarded_for += peer;
  req.set("X-Forwarded-For", forwarded_for);
  if (req.find("X-Forwarded-Proto") == req.end()) req.set("X-Forwarded-Proto", proto);
  if (req.find("X-Forwarded-Host") == req.end() && req.count(http::field::host) == 1)
    req.set("X-Forwarded-Host", req[http::field::host]);
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

bool wants_upgrade(const http::request_header<>& req) {
  if (req.version() < 11 || req.count(http::field::upgrade) == 0) return false;
  for (const auto& token : http::token_list{req[http::field::connection]}) {
    if (beast::iequals(token, "upgrade")) return true;
  }
  return false;
}

std::string https_location(const http::request_header<>& req, uint16_t port) {
  std::string_view host(req[http::field::host]);
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') == std::string_view::npos ? 0 : host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty()) return {};
  for (char c : host) {
    // A name or an address, nothing that could end the authority ("/", "@", "?") or the header.
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '[' && c != ']' &&
        c != ':')
      return {};
  }
  std::string_view target(req.target());
  if (target.empty() || target.front() != '/') {
    // absolute-form ("http://host/path") keeps its path; anything else ("*") becomes "/".
    const size_t scheme = target.find("://");
    const size_t slash = scheme == std::string_view::npos ? scheme : target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  std::string location = "https://" + std::string(host);
  if (port != 443) location += ":" + std::to_string(port);
  location += target;
  return location;
}

Response redirect_response(std::string_view location, unsigned version, bool keep_alive) {
  Response res{http::status::permanent_redirect, version};
  res.set(http::field::location, location);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
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

void serialize_head(const http::request_header<>& req, std::string& out) {
  out.clear();
  out += req.method_string();
  out += ' ';
  out += req.target();
  out += ' ';
  append_version(req.version(), out);
  out += "\r\n";
  append_fields(req, out);
}

void serialize_head(const http::response_header<>& res, std::string& out) {
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
