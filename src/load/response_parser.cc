#include "load/response_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace villager::load {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

// True when the comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

void ResponseParser::start(bool head_request) {
  phase_ = Phase::kStatusLine;
  line_.clear();
  head_request_ = head_request;
  started_ = false;
  status_ = 0;
  keep_alive_ = true;
  chunked_ = false;
  has_length_ = false;
  length_ = remaining_ = body_bytes_ = 0;
  header_bytes_ = 0;
  error_.clear();
}

bool ResponseParser::fail(std::string why) {
  phase_ = Phase::kError;
  error_ = std::move(why);
  return false;
}

ResponseParser::State ResponseParser::feed(const char* data, size_t n, size_t* consumed) {
  size_t i = 0;
  if (n) started_ = true;
  while (i < n) {
    switch (phase_) {
      case Phase::kStatusLine:
      case Phase::kHeaders:
      case Phase::kChunkSize:
      case Phase::kChunkDataEnd:
      case Phase::kTrailers: {
        const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
        if (!nl) {
          line_.append(data + i, n - i);
          if (line_.size() > kMaxLineBytes)
            fail("line longer than " + std::to_string(kMaxLineBytes) + " bytes");
          i = n;
          break;
        }
        size_t len = static_cast<size_t>(nl - (data + i));
        std::string_view line;
        if (line_.empty()) {
          line = std::string_view(data + i, len);
        } else {
          line_.append(data + i, len);
          line = line_;
        }
        i += len + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        bool ok = on_line(line);
        line_.clear();
        if (!ok) break;
        break;
      }
      case Phase::kBody:
      case Phase::kChunkData: {
        uint64_t take = std::min<uint64_t>(remaining_, n - i);
        i += take;
        remaining_ -= take;
        body_bytes_ += take;
        if (remaining_ == 0) phase_ = phase_ == Phase::kBody ? Phase::kDone : Phase::kChunkDataEnd;
        break;
      }
      case Phase::kUntilClose:
        body_bytes_ += n - i;
        i = n;
        break;
      case Phase::kDone:
      case Phase::kError:
        break;
    }
    if (phase_ == Phase::kDone) {
      *consumed = i;
      return State::kComplete;
    }
    if (phase_ == Phase::kError) {
      *consumed = i;
      return State::kError;
    }
  }
  *consumed = i;
  return phase_ == Phase::kDone ? State::kComplete : State::kNeedMore;
}

ResponseParser::State ResponseParser::finish() {
  if (phase_ == Phase::kUntilClose) {
    phase_ = Phase::kDone;
    return State::kComplete;
  }
  if (phase_ == Phase::kDone) return State::kComplete;
  fail(started_ ? "connection closed in the middle of a response" : "connection closed before a response");
  return State::kError;
}

bool ResponseParser::on_line(std::string_view line) {
  switch (phase_) {
    case Phase::kStatusLine: {
      if (line.empty()) return true;  // tolerate stray CRLF between responses
      // "HTTP/1.1 200 OK"
      if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ')
        return fail("bad status line '" + std::string(line.substr(0, 64)) + "'");
      keep_alive_ = line[7] != '0';
      int code = 0;
      auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, code);
      if (ec != std::errc() || p != line.data() + 12 || code < 100 || code > 599)
        return fail("bad status code in '" + std::string(line.substr(0, 64)) + "'");
      status_ = code;
      header_bytes_ = line.size();
      phase_ = Phase::kHeaders;
      return true;
    }
    case Phase::kHeaders:
      header_bytes_ += line.size() + 2;
      if (header_bytes_ > kMaxHeaderBytes)
        return fail("headers longer than " + std::to_string(kMaxHeaderBytes));
      if (line.empty()) return end_of_headers();
      return on_header(line);
    case Phase::kChunkSize: {
      size_t end = line.find(';');
      std::string_view hex = line.substr(0, end);
      while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\t')) hex.remove_suffix(1);
      uint64_t size = 0;
      auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
      if (hex.empty() || ec != std::errc() || p != hex.data() + hex.size())
        return fail("bad chunk size '" + std::string(line.substr(0, 32)) + "'");
      if (size == 0) {
        phase_ = Phase::kTrailers;
      } else {
        remaining_ = size;
        phase_ = Phase::kChunkData;
      }
      return true;
    }
    case Phase::kChunkDataEnd:
      if (!line.empty()) return fail("chunk not followed by CRLF");
      phase_ = Phase::kChunkSize;
      return true;
    case Phase::kTrailers:
      if (line.empty()) phase_ = Phase::kDone;
      return true;
    default:
      return fail("internal: line in body phase");
  }
}

bool ResponseParser::on_header(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return fail("bad header line '" + std::string(line.substr(0, 64)) + "'");
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  switch (name.size()) {
    case 14:  // Content-Length
      if (iequals(name, "content-length")) {
        uint64_t len = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), len);
        if (value.empty() || ec != std::errc() || p != value.data() + value.size())
          return fail("bad Content-Length '" + std::string(value.substr(0, 32)) + "'");
        if (has_length_ && len != length_) return fail("conflicting Content-Length headers");
        has_length_ = true;
        length_ = len;
      }
      break;
    case 17:  // Transfer-Encoding
      if (iequals(name, "transfer-encoding") && has_token(value, "chunked")) chunked_ = true;
      break;
    case 10:  // Connection
      if (iequals(name, "connection")) {
        if (has_token(value, "close"))
          keep_alive_ = false;
        else if (has_token(value, "keep-alive"))
          keep_alive_ = true;
      }
      break;
    default:
      break;
  }
  return true;
}

bool ResponseParser::end_of_headers() {
  if (status_ < 200 && status_ != 101) {
    // Interim response (100 Continue, 103 Early Hints): the real one follows.
    phase_ = Phase::kStatusLine;
    keep_alive_ = true;
    chunked_ = has_length_ = false;
    return true;
  }
  if (head_request_ || status_ == 204 || status_ == 304 || status_ == 101) {
    phase_ = Phase::kDone;
  } else if (chunked_) {
    phase_ = Phase::kChunkSize;
  } else if (has_length_) {
    remaining_ = length_;
    phase_ = length_ == 0 ? Phase::kDone : Phase::kBody;
  } else {
    keep_alive_ = false;
    phase_ = Phase::kUntilClose;
  }
  return true;
}

}  // namespace villager::load
