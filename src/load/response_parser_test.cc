#include "load/response_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace villager::load {
namespace {

using State = ResponseParser::State;

const std::string kSimple = "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 2\r\n\r\nok";

TEST(ResponseParser, ContentLengthResponse) {
  ResponseParser p;
  p.start();
  size_t used = 0;
  EXPECT_EQ(p.feed(kSimple.data(), kSimple.size(), &used), State::kComplete);
  EXPECT_EQ(used, kSimple.size());
  EXPECT_EQ(p.status(), 200);
  EXPECT_TRUE(p.keep_alive());
  EXPECT_EQ(p.body_bytes(), 2u);
}

TEST(ResponseParser, EverySplitPointGivesTheSameResult) {
  const std::string chunked =
      "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: y\r\n\r\n";
  for (const std::string& text : {kSimple, chunked}) {
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      ResponseParser p;
      p.start();
      size_t used = 0;
      State s = p.feed(text.data(), cut, &used);
      ASSERT_NE(s, State::kError) << p.error();
      if (cut < text.size()) {
        ASSERT_EQ(s, State::kNeedMore) << "cut " << cut;
        ASSERT_EQ(used, cut);
        s = p.feed(text.data() + cut, text.size() - cut, &used);
        ASSERT_EQ(used, text.size() - cut);
      }
      ASSERT_EQ(s, State::kComplete) << "cut " << cut << ": " << p.error();
    }
  }
}

TEST(ResponseParser, ByteAtATime) {
  const std::string text = "HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\nnope!";
  ResponseParser p;
  p.start();
  State s = State::kNeedMore;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t used = 0;
    s = p.feed(&text[i], 1, &used);
    ASSERT_EQ(used, 1u);
    if (i + 1 < text.size()) {
      ASSERT_EQ(s, State::kNeedMore) << i;
    }
  }
  EXPECT_EQ(s, State::kComplete);
  EXPECT_EQ(p.status(), 404);
  EXPECT_EQ(p.body_bytes(), 5u);
}

TEST(ResponseParser, ChunkedBodyAndConnectionClose) {
  const std::string text =
      "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: gzip, Chunked\r\nConnection: close\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n";
  ResponseParser p;
  p.start();
  size_t used = 0;
  ASSERT_EQ(p.feed(text.data(), text.size(), &used), State::kComplete) << p.error();
  EXPECT_EQ(p.status(), 500);
  EXPECT_FALSE(p.keep_alive());
  EXPECT_EQ(p.body_bytes(), 3u);
}

TEST(ResponseParser, PipelinedBytesAreLeftForTheNextResponse) {
  const std::string two = kSimple + "HTTP/1.1 204 No Content\r\n\r\n";
  ResponseParser p;
  p.start();
  size_t used = 0;
  ASSERT_EQ(p.feed(two.data(), two.size(), &used), State::kComplete);
  EXPECT_EQ(used, kSimple.size());
  p.start();
  size_t used2 = 0;
  ASSERT_EQ(p.feed(two.data() + used, two.size() - used, &used2), State::kComplete);
  EXPECT_EQ(used + used2, two.size());
  EXPECT_EQ(p.status(), 204);
}

TEST(ResponseParser, InterimResponseIsSkipped) {
  const std::string text = "HTTP/1.1 100 Continue\r\n\r\n" + kSimple;
  ResponseParser p;
  p.start();
  size_t used = 0;
  ASSERT_EQ(p.feed(text.data(), text.size(), &used), State::kComplete);
  EXPECT_EQ(p.status(), 200);
}

TEST(ResponseParser, HeadResponseHasNoBody) {
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  ResponseParser p;
  p.start(/*head_request=*/true);
  size_t used = 0;
  EXPECT_EQ(p.feed(text.data(), text.size(), &used), State::kComplete);
}

TEST(ResponseParser, BodyUntilCloseCompletesAtEof) {
  const std::string text = "HTTP/1.0 200 OK\r\n\r\nsome body";
  ResponseParser p;
  p.start();
  size_t used = 0;
  EXPECT_EQ(p.feed(text.data(), text.size(), &used), State::kNeedMore);
  EXPECT_EQ(p.finish(), State::kComplete);
  EXPECT_FALSE(p.keep_alive());
  EXPECT_EQ(p.body_bytes(), 9u);
}

TEST(ResponseParser, Http10KeepAliveIsHonoured) {
  const std::string text = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
  ResponseParser p;
  p.start();
  size_t used = 0;
  EXPECT_EQ(p.feed(text.data(), text.size(), &used), State::kComplete);
  EXPECT_TRUE(p.keep_alive());
}

TEST(ResponseParser, EofMidResponseIsAnError) {
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  ResponseParser p;
  p.start();
  size_t used = 0;
  EXPECT_EQ(p.feed(text.data(), text.size(), &used), State::kNeedMore);
  EXPECT_EQ(p.finish(), State::kError);
  EXPECT_TRUE(p.started());
  ResponseParser idle;
  idle.start();
  EXPECT_EQ(idle.finish(), State::kError);
  EXPECT_FALSE(idle.started());
}

TEST(ResponseParser, MalformedInputIsAnError) {
  for (std::string bad :
       {"SMTP ready\r\n", "HTTP/1.1 2x0 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    ResponseParser p;
    p.start();
    size_t used = 0;
    EXPECT_EQ(p.feed(bad.data(), bad.size(), &used), State::kError) << bad;
    EXPECT_FALSE(p.error().empty());
  }
}

TEST(ResponseParser, OverlongLineIsAnError) {
  std::string text = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(ResponseParser::kMaxLineBytes + 10, 'a');
  ResponseParser p;
  p.start();
  size_t used = 0;
  // Fed in pieces so the line is buffered across reads.
  State s = State::kNeedMore;
  for (size_t i = 0; i < text.size() && s == State::kNeedMore; i += 1000)
    s = p.feed(text.data() + i, std::min<size_t>(1000, text.size() - i), &used);
  EXPECT_EQ(s, State::kError);
}

}  // namespace
}  // namespace villager::load
