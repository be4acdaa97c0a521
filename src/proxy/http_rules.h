#pragma once
// The HTTP rules a proxy applies to every message: strict request framing (RFC 9112), hop-by-hop headers,
// forwarding headers, idempotency, and the JSON error answers.

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

#include "proxy/proxy.h"

namespace villager::proxy {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// The framing rules of RFC 9112 that Beast's parser leaves to us, checked on a parsed request header
// before anything is forwarded: at most one Content-Length holding one value; Transfer-Encoding only as
// one `chunked` (a request whose body length the proxy and the release could read differently is
// refused, never forwarded), never with Content-Length, never on HTTP/1.0; exactly one Host on HTTP/1.1;
// no control character in a field value. Empty when the header may be forwarded, otherwise what is wrong
// (names the rule, never request content).
std::string framing_problem(const boost::beast::http::request_header<>& req);

// Removes the hop-by-hop headers of RFC 9110 7.6.1 (Connection and every header it names, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authenticate/-Authorization).
void strip_hop_by_hop(boost::beast::http::fields& fields);

// Sets X-Forwarded-For (the peer), X-Forwarded-Proto (`proto`) and X-Forwarded-Host (the Host header),
// treating the client's own copies as `mode` says.
void add_forwarded(boost::beast::http::request_header<>& req, std::string_view peer, std::string_view proto,
                   ClientForwarded mode);

// An HTTP/1.1 request asking to switch protocols: an Upgrade header and "upgrade" among the Connection
// tokens (RFC 9110 7.8), as a WebSocket handshake sends.
bool wants_upgrade(const boost::beast::http::request_header<>& req);

// Where a plain request goes on HTTPS: "https://<Host without its port>[:port]<target>", the port left
// out when 443. Empty when the Host header is missing or is not a plain host name or address.
std::string https_location(const boost::beast::http::request_header<>& req, uint16_t port);

// GET, HEAD, OPTIONS, TRACE, PUT, DELETE: safe to send twice (RFC 9110 9.2.2).
bool is_idempotent(boost::beast::http::verb method);

// {"status":"error","message":...} with the given status, HTTP version and keep-alive.
Response error_response(boost::beast::http::status status, std::string_view message, unsigned version,
                        bool keep_alive);

// 308 Permanent Redirect to `location` (method and body kept by the client, unlike 301), empty body.
Response redirect_response(std::string_view location, unsigned version, bool keep_alive);

// Writes the start line and the fields of a message as they go on the wire, ending with the blank line,
// into `out` (replacing what it held). The body is not written: the caller appends it or sends it as a
// second buffer. Written by hand rather than by Beast's serializer so that a small message leaves in one
// contiguous send(): the serializer hands the kernel one iovec per field, and copying many small iovecs
// cost more kernel time than the whole user-space serialization (docs/proxy.md).
void serialize_head(const boost::beast::http::request_header<>& req, std::string& out);
void serialize_head(const boost::beast::http::response_header<>& res, std::string& out);

}  // namespace villager::proxy
