#pragma once
// The route table: which release gets which share of requests, and an optional sticky cookie.
// Routes holds the current table behind an atomically swapped shared_ptr<const RouteTable>; a reader takes
// one snapshot per request, so a request is served entirely by the old or entirely by the new table.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::proxy {

struct Upstream {
  std::string release_id;
  std::string host;  // an IP literal or a name resolved when a connection is opened
  uint16_t port = 0;
  int weight = 0;  // relative share; 0 = in the table but takes no new requests (draining)
};

struct RouteTable {
  std::vector<Upstream> upstreams;
  std::string sticky_cookie;  // cookie name; empty = off
};

// Checks a table before it is installed: names, ports, weights >= 0, a valid cookie name.
Status validate(const RouteTable& table);

// The outcome of routing one request. `upstream` is null when nothing can take the request (empty table,
// all weights 0). `set_cookie` is true when the sticky cookie must be (re)set on the response.
struct RouteChoice {
  const Upstream* upstream = nullptr;
  bool set_cookie = false;
};

// Picks an upstream. `random` is any uniformly distributed 64-bit value (tests pass a seeded source), so
// the choice is deterministic given it. Sticky: when the table names a cookie and `cookie_header` (the
// request's Cookie header, possibly empty) carries that cookie naming a release with weight > 0, the
// request is pinned to that release; otherwise the choice is by weight and set_cookie is true.
RouteChoice choose(const RouteTable& table, std::string_view cookie_header, uint64_t random);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or empty.
std::string_view find_cookie(std::string_view cookie_header, std::string_view name);

// The current route table of one listener. Thread-safe: store() from any thread, snapshot() from any
// thread. version() grows with every store(), so a reader may cache its snapshot until it changes.
class Routes {
 public:
  Routes();
  explicit Routes(RouteTable initial);

  // Installs a new table atomically. Requests already routed keep the snapshot they took.
  Status store(RouteTable table);
  std::shared_ptr<const RouteTable> snapshot() const;
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const RouteTable> table_;  // Guarded by mu_.
  std::atomic<uint64_t> version_{1};
};

// A small fast random source (splitmix64) for choose(); seedable for tests, not for cryptography.
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace villager::proxy
