#include "proxy/upstream_pool.h"

#include <gtest/gtest.h>

namespace villager::proxy {
namespace {

// A connection that relayed a streamed body comes back to the pool with a 64 KiB read buffer; idle, it
// keeps at most kIdleBufferBytes, and bytes it has not handed on yet stay.
TEST(UpstreamPool, AnIdleConnectionGivesBackAStreamedBodysBuffer) {
  boost::asio::io_context ioc;
  UpstreamPool pool(4);
  auto conn = std::make_unique<UpstreamConnection>(ioc);
  conn->key = "127.0.0.1:9";
  conn->buffer.prepare(64 * 1024);
  conn->buffer.commit(3);
  ASSERT_GE(conn->buffer.capacity(), 64u * 1024);
  pool.release(std::move(conn));
  auto back = pool.acquire("127.0.0.1:9");
  ASSERT_TRUE(back);
  EXPECT_LE(back->buffer.capacity(), kIdleBufferBytes);
  EXPECT_EQ(back->buffer.size(), 3u);

  auto small = std::make_unique<UpstreamConnection>(ioc);  // a small buffer is kept as it is
  small->key = "127.0.0.1:9";
  small->buffer.prepare(4096);
  const size_t before = small->buffer.capacity();
  pool.release(std::move(small));
  EXPECT_EQ(pool.acquire("127.0.0.1:9")->buffer.capacity(), before);
}

}  // namespace
}  // namespace villager::proxy
