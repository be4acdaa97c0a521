#include "smoke/chromium.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdlib>
#include <thread>

#include "base/fs.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "net/http.h"

namespace villager::smoke {

namespace asio = boost::asio;
namespace beast = boost::beast;
using json = nlohmann::json;

struct Chromium::Socket {
  asio::io_context ioc;
  beast::websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
};

namespace {

std::chrono::milliseconds left(Chromium::Deadline deadline) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return d.count() > 0 ? d : std::chrono::milliseconds(0);
}

bool on_path(const std::string& binary) {
  if (binary.find('/') != std::string::npos) return ::access(binary.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path ? path : "/usr/bin:/bin", ':'))
    if (!dir.empty() && ::access((std::string(dir) + "/" + binary).c_str(), X_OK) == 0) return true;
  return false;
}

// The last lines Chromium wrote, minus its routine complaints about D-Bus in a container.
std::string stderr_tail(const fs::path& log) {
  auto text = read_file(log);
  if (!text) return "(no output)";
  std::vector<std::string> kept;
  for (const auto& line : split(*text, '\n'))
    if (!line.empty() && line.find("dbus") == std::string::npos) kept.emplace_back(line);
  if (kept.size() > 3) kept.erase(kept.begin(), kept.end() - 3);
  return kept.empty() ? "(no output)" : join(kept, " | ");
}

}  // namespace

Result<std::unique_ptr<Chromium>> Chromium::launch(const std::string& binary, Deadline deadline,
                                                   const std::vector<std::string>& flags) {
  if (!on_path(binary))
    return NotFound("browser '" + binary +
                    "' not found (install the Debian package chromium, or set "
                    "[smoke.browser] chromium)");
  auto dir = make_temp_dir("villager-chromium");
  if (!dir) return dir.error();
  std::unique_ptr<Chromium> c(new Chromium());
  c->dir_ = *dir;
  SpawnOptions opts;
  opts.stderr_path = (c->dir_ / "chromium.log").string();
  // Loopback only, a fresh profile, nothing that reaches out on its own.
  std::vector<std::string> argv = {binary,
                                   "--headless=new",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-extensions",
                                   "--disable-background-networking",
                                   "--disable-sync",
                                   "--disable-component-update",
                                   "--user-data-dir=" + (c->dir_ / "profile").string(),
                                   "--remote-debugging-port=0",
                                   "--remote-debugging-address=127.0.0.1"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("about:blank");
  auto pid = spawn_process(argv, opts);
  if (!pid) return pid.error().context("starting " + binary);
  c->pid_ = *pid;

  // Chromium writes the port it chose, then the browser's path, into DevToolsActivePort.
  int port = 0;
  const fs::path port_file = c->dir_ / "profile" / "DevToolsActivePort";
  while (port == 0) {
    if (auto text = read_file(port_file); text && text->find('\n') != std::string::npos)
      port = std::atoi(split(*text, '\n')[0].c_str());
    if (port != 0) break;
    if (reap_if_exited(c->pid_)) {
      c->pid_ = 0;
      return Unavailable(binary + " exited at start: " + stderr_tail(c->dir_ / "chromium.log"));
    }
    if (left(deadline).count() == 0)
      return Unavailable(binary +
                         " did not open its debugging port: " + stderr_tail(c->dir_ / "chromium.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // The page it opened on about:blank.
  std::string page_path;
  while (page_path.empty()) {
    net::HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/json/list";
    req.timeout = std::max(left(deadline), std::chrono::milliseconds(1));
    auto resp = net::http_send(req);
    if (resp && resp->status == 200) {
      json list = json::parse(resp->body, nullptr, false);
      if (list.is_array())
        for (const auto& t : list)
          if (t.value("type", "") == "page" && t.value("url", "") == "about:blank") {
            std::string ws = t.value("webSocketDebuggerUrl", "");
            auto at = ws.find("/devtools/");
            if (at != std::string::npos) page_path = ws.substr(at);
          }
    }
    if (!page_path.empty()) break;
    if (left(deadline).count() == 0)
      return Unavailable(binary + ": no page to drive on port " + std::to_string(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  c->socket_ = std::make_unique<Socket>();
  auto& ws = c->socket_->ws;
  beast::error_code ec;
  beast::get_lowest_layer(ws).expires_after(std::max(left(deadline), std::chrono::milliseconds(1)));
  beast::get_lowest_layer(ws).socket().connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
  if (!ec) {
    ws.read_message_max(64 * 1024 * 1024);
    ws.handshake("127.0.0.1:" + std::to_string(port), page_path, ec);
  }
  if (ec)
    return Unavailable(binary + ": DevTools connection on port " + std::to_string(port) + ": " +
                       ec.message());
  // From here each read is bounded by its own deadline (read_message), not by the launch's.
  beast::get_lowest_layer(ws).expires_never();
  return c;
}

Chromium::~Chromium() {
  if (socket_) {
    beast::error_code ignored;
    beast::get_lowest_layer(socket_->ws).socket().close(ignored);
  }
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);  // the whole group: renderer and GPU helpers too
    ::waitpid(pid_, nullptr, 0);
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

Result<json> Chromium::read_message(Deadline deadline) {
  auto& s = *socket_;
  bool done = false;
  beast::error_code ec;
  s.buffer.clear();
  s.ws.async_read(s.buffer, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  s.ioc.restart();
  s.ioc.run_for(left(deadline));
  if (!done) {
    // Out of time: the connection is closed (the pending read ends) and unusable from here on.
    beast::error_code ignored;
    beast::get_lowest_layer(s.ws).socket().close(ignored);
    s.ioc.restart();
    s.ioc.run();
    return Timeout("the browser did not answer in time");
  }
  if (ec) return Unavailable("DevTools connection: " + ec.message());
  json message = json::parse(beast::buffers_to_string(s.buffer.data()), nullptr, false);
  if (message.is_discarded()) return Internal("DevTools sent a message that is not JSON");
  return message;
}

Result<json> Chromium::call(const std::string& method, const json& params, Deadline deadline) {
  const int64_t id = next_id_++;
  const std::string text = json{{"id", id}, {"method", method}, {"params", params}}.dump();
  beast::error_code ec;
  socket_->ws.text(true);
  socket_->ws.write(asio::buffer(text), ec);
  if (ec) return Unavailable("DevTools " + method + ": " + ec.message());
  for (;;) {
    auto message = read_message(deadline);
    if (!message) return message.error().context(method);
    if (!message->contains("id")) {
      if (message->contains("method")) events_.push_back(std::move(*message));
      continue;
    }
    if ((*message)["id"] != id) continue;
    if (message->contains("error"))
      return Internal(method + ": " + (*message)["error"].value("message", std::string("error")));
    return message->value("result", json::object());
  }
}

Result<json> Chromium::evaluate(const std::string& expression, Deadline deadline) {
  auto r = call("Runtime.evaluate",
                {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}}, deadline);
  if (!r) return r.error();
  if (r->contains("exceptionDetails")) {
    const json& d = (*r)["exceptionDetails"];
    std::string what = d.contains("exception") ? d["exception"].value("description", "") : "";
    return Internal("script error: " + (what.empty() ? d.value("text", std::string("exception")) : what));
  }
  return (*r)["result"].value("value", json());
}

}  // namespace villager::smoke
