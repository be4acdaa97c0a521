#pragma once
// The /stream/ endpoints of the reference service (docs/send-server.md): what is pure in them, so the
// server's session only moves bytes.
//   POST|PUT /stream/upload            reads a body of any size, hashing it as it arrives;
//                                      answers {"bytes":N,"sha256":"<hex>"}
//   GET /stream/download/<N>           N bytes of deterministic content (download_block() repeated)
//   GET /stream/events?count=C&interval_ms=M
//                                      text/event-stream: C events "data: <i>", one every M ms (chunked)

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace send_server {

// Bytes read or written per step of a stream: bounds a streaming connection's memory.
constexpr size_t kStreamChunkBytes = 64 * 1024;
constexpr uint64_t kMaxEvents = 100'000;
constexpr std::chrono::milliseconds kMaxEventInterval{60'000};

enum class StreamKind { kNone, kUpload, kDownload, kEvents };

// Which /stream/ endpoint a request target names (kNone for every other path).
StreamKind stream_kind(std::string_view target);

// "/stream/download/<N>" -> N; nullopt when N is not a decimal number.
std::optional<uint64_t> download_size(std::string_view target);
// 64256 bytes (251 * 256), byte i = i % 251; a download is this block repeated and cut at N bytes.
const std::string& download_block();
std::string download_head(uint64_t size);

struct EventStream {
  uint64_t count = 10;
  uint64_t sent = 0;
  std::chrono::milliseconds interval{100};
};
// count and interval_ms from the query, clamped to kMaxEvents and kMaxEventInterval.
EventStream parse_events(std::string_view target);
std::string events_head();
// One event as one chunk of the chunked body: "data: <i>\n\n".
std::string event_chunk(uint64_t i);

// {"bytes":N,"sha256":"<hex of the raw digest>"}
std::string upload_result(uint64_t bytes, std::string_view raw_digest);

}  // namespace send_server
