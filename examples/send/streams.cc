#include "streams.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "base/strings.h"

namespace send_server {

namespace {

constexpr std::string_view kUpload = "/stream/upload";
constexpr std::string_view kDownload = "/stream/download/";
constexpr std::string_view kEvents = "/stream/events";

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The value of `key` in a query string ("a=1&b=2"), or empty.
std::string_view query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=')
      return pair.substr(key.size() + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

StreamKind stream_kind(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == kUpload) return StreamKind::kUpload;
  if (villager::starts_with(path, kDownload)) return StreamKind::kDownload;
  if (path == kEvents) return StreamKind::kEvents;
  return StreamKind::kNone;
}

std::optional<uint64_t> download_size(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (!villager::starts_with(path, kDownload)) return std::nullopt;
  return parse_u64(path.substr(kDownload.size()));
}

const std::string& download_block() {
  static const std::string block = [] {
    std::string b(251 * 256, '\0');
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>(i % 251);
    return b;
  }();
  return block;
}

std::string download_head(uint64_t size) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
         std::to_string(size) + "\r\n\r\n";
}

EventStream parse_events(std::string_view target) {
  EventStream e;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return e;
  std::string_view query = target.substr(q + 1);
  if (auto c = parse_u64(query_value(query, "count"))) e.count = std::min(*c, kMaxEvents);
  if (auto ms = parse_u64(query_value(query, "interval_ms")))
    e.interval =
        std::chrono::milliseconds(std::min<uint64_t>(*ms, static_cast<uint64_t>(kMaxEventInterval.count())));
  return e;
}

std::string events_head() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "Transfer-Encoding: chunked\r\n\r\n";
}

std::string event_chunk(uint64_t i) {
  const std::string event = "data: " + std::to_string(i) + "\n\n";
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", event.size());
  return std::string(size, static_cast<size_t>(n)) + event + "\r\n";
}

std::string upload_result(uint64_t bytes, std::string_view raw_digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw_digest) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return R"({"bytes":)" + std::to_string(bytes) + R"(,"sha256":")" + hex + "\"}";
}

}  // namespace send_server
