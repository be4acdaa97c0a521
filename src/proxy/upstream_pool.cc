#include "proxy/upstream_pool.h"

#include <utility>

namespace villager::proxy {

std::unique_ptr<UpstreamConnection> UpstreamPool::acquire(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  // LIFO: the most recently used connection is the least likely to have been closed by the upstream.
  auto conn = std::move(it->second.back());
  it->second.pop_back();
  --idle_count_;
  return conn;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> conn) {
  auto& slot = idle_[conn->key];
  if (slot.size() >= max_idle_) {
    boost::system::error_code ignored;
    conn->socket.close(ignored);
    return;
  }
  conn->reused = true;
  trim_idle_buffer(conn->buffer);
  slot.push_back(std::move(conn));
  ++idle_count_;
}

size_t UpstreamPool::close_release(std::string_view release_id) {
  return close_unless([&](const UpstreamConnection& c) { return c.release_id != release_id; });
}

void UpstreamPool::close_all() {
  close_unless([](const UpstreamConnection&) { return false; });
  idle_.clear();
}

}  // namespace villager::proxy
