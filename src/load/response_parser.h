#pragma once
// An incremental HTTP/1.x response parser tuned for the load generator: it keeps only what the
// generator needs (status, keep-alive, framing) and skips bodies without copying. Bytes may arrive split
// anywhere; a read may also hold the start of the next (pipelined) response, which feed() leaves
// unconsumed. Framing: Content-Length, chunked (with trailers), or body-until-close; 1xx interim
// responses are skipped; HEAD, 204 and 304 have no body.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace villager::load {

class ResponseParser {
 public:
  // A single header or status line longer than this is an error (a server gone wrong, not a response).
  static constexpr size_t kMaxLineBytes = 16 * 1024;
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;

  enum class State { kNeedMore, kComplete, kError };

  // Prepares for the next response; `head_request` means the response has no body.
  void start(bool head_request = false);
  // Consumes bytes up to the end of the current response. Sets *consumed to how many bytes were used;
  // on kComplete, data[*consumed..n) belongs to the next response.
  State feed(const char* data, size_t n, size_t* consumed);
  // The peer closed the connection: completes a body delimited by close, else kError.
  State finish();

  int status() const { return status_; }
  // False when the server said "Connection: close", answered HTTP/1.0 without keep-alive, or the body
  // ran until close: the connection must then be reopened.
  bool keep_alive() const { return keep_alive_; }
  uint64_t body_bytes() const { return body_bytes_; }
  // True once any byte of the current response has arrived.
  bool started() const { return started_; }
  const std::string& error() const { return error_; }

 private:
  enum class Phase {
    kStatusLine,
    kHeaders,
    kBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kUntilClose,
    kDone,
    kError
  };

  bool on_line(std::string_view line);
  bool on_header(std::string_view line);
  bool end_of_headers();
  bool fail(std::string why);

  Phase phase_ = Phase::kStatusLine;
  std::string line_;  // a line split across reads; empty on the fast path
  bool head_request_ = false;
  bool started_ = false;
  int status_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  bool has_length_ = false;
  uint64_t length_ = 0;
  uint64_t remaining_ = 0;
  uint64_t body_bytes_ = 0;
  size_t header_bytes_ = 0;
  std::string error_;
};

}  // namespace villager::load
