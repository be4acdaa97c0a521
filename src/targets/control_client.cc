#include "targets/control_client.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace villager::targets {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

Result<ControlReply> ControlClient::call(const std::string& method, const std::string& path,
                                         const std::string& body, std::chrono::milliseconds timeout) {
  std::string where = method + " http://" + address_.to_string() + path;
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket sock(ioc);
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address_.host, ec);
    if (ec) return InvalidArgument(where + ": bad agent address");
    sock.connect({addr, address_.port}, ec);
    if (ec)
      return Unavailable("cannot reach the villager agent at " + address_.to_string() + " (" + ec.message() +
                         "); start it with `villager agent`");
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    http::request<http::string_body> req{http::string_to_verb(method), path, 11};
    req.set(http::field::host, address_.to_string());
    req.set(http::field::authorization, "Bearer " + token_);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(false);
    req.body() = body;
    req.prepare_payload();
    http::write(sock, req, ec);
    if (ec) return Unavailable(where + ": " + ec.message());
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    http::read(sock, buf, parser, ec);
    if (ec) {
      if (ec == asio::error::would_block || ec == asio::error::timed_out)
        return Timeout(where + ": no answer from the agent within " + std::to_string(timeout.count()) + "ms");
      return Unavailable(where + ": " + ec.message());
    }
    ControlReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    reply.body = parser.get().body();
    return reply;
  } catch (const std::exception& e) {
    return Internal(where + ": " + e.what());
  }
}

Result<std::string> ControlClient::call_ok(const std::string& method, const std::string& path,
                                           const std::string& body, std::chrono::milliseconds timeout) {
  auto r = call(method, path, body, timeout);
  if (!r) return r.error();
  if (r->status >= 200 && r->status < 300) return r->body;
  std::string message = r->body;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string())
    message = j["message"];
  Error e{Code::kInternal, "agent answered " + std::to_string(r->status) + ": " + message};
  if (r->status == 401)
    e.code = Code::kUnauthenticated;
  else if (r->status == 403)
    e.code = Code::kPermissionDenied;
  else if (r->status == 404)
    e.code = Code::kNotFound;
  else if (r->status == 409)
    e.code = Code::kConflict;
  else if (r->status == 412)
    e.code = Code::kFailedPrecondition;
  else if (r->status >= 500)
    e.code = Code::kUnavailable;
  return e;
}

}  // namespace villager::targets
