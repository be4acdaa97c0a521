#include "proxy/route_table.h"

#include <utility>

namespace villager::proxy {
namespace {

// RFC 6265 cookie-name: an HTTP token.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
    if (std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Status validate(const RouteTable& table) {
  std::string problems;
  for (size_t i = 0; i < table.upstreams.size(); ++i) {
    const Upstream& u = table.upstreams[i];
    std::string where = "upstream " + std::to_string(i);
    if (u.release_id.empty()) problems += where + ": empty release_id; ";
    // The release id travels in a cookie value, so it must be a plain token.
    if (!u.release_id.empty() && !is_token(u.release_id))
      problems += where + ": release_id '" + u.release_id + "' is not a token; ";
    if (u.host.empty()) problems += where + ": empty host; ";
    if (u.port == 0) problems += where + ": port 0; ";
    if (u.weight < 0) problems += where + ": negative weight " + std::to_string(u.weight) + "; ";
  }
  if (!table.sticky_cookie.empty() && !is_token(table.sticky_cookie))
    problems += "sticky_cookie '" + table.sticky_cookie + "' is not a valid cookie name; ";
  if (!problems.empty()) {
    problems.resize(problems.size() - 2);
    return InvalidArgument("route table: " + problems);
  }
  return Ok();
}

std::string_view find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = trim_spaces(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim_spaces(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim_spaces(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return {};
}

RouteChoice choose(const RouteTable& table, std::string_view cookie_header, uint64_t random) {
  RouteChoice choice;
  const bool sticky = !table.sticky_cookie.empty();
  std::string_view pinned;
  if (sticky && !cookie_header.empty()) pinned = find_cookie(cookie_header, table.sticky_cookie);

  // Total weight of the candidates: the pinned release's upstreams when it is still routable, else all.
  uint64_t total = 0;
  uint64_t pinned_total = 0;
  for (const Upstream& u : table.upstreams) {
    if (u.weight <= 0) continue;
    total += static_cast<uint64_t>(u.weight);
    if (!pinned.empty() && u.release_id == pinned) pinned_total += static_cast<uint64_t>(u.weight);
  }
  if (total == 0) return choice;
  const bool use_pin = pinned_total > 0;
  uint64_t r = random % (use_pin ? pinned_total : total);
  for (const Upstream& u : table.upstreams) {
    if (u.weight <= 0) continue;
    if (use_pin && u.release_id != pinned) continue;
    if (r < static_cast<uint64_t>(u.weight)) {
      choice.upstream = &u;
      break;
    }
    r -= static_cast<uint64_t>(u.weight);
  }
  choice.set_cookie = sticky && !use_pin;
  return choice;
}

Routes::Routes() : table_(std::make_shared<const RouteTable>()) {}

Routes::Routes(RouteTable initial) : table_(std::make_shared<const RouteTable>(std::move(initial))) {}

Status Routes::store(RouteTable table) {
  VILLAGER_RETURN_IF_ERROR(validate(table));
  auto next = std::make_shared<const RouteTable>(std::move(table));
  std::shared_ptr<const RouteTable> old;
  {
    std::lock_guard lock(mu_);
    old = std::exchange(table_, std::move(next));
    version_.fetch_add(1, std::memory_order_acq_rel);
  }
  // `old` is released outside the lock; readers still holding it keep it alive.
  return Ok();
}

std::shared_ptr<const RouteTable> Routes::snapshot() const {
  std::lock_guard lock(mu_);
  return table_;
}

}  // namespace villager::proxy
