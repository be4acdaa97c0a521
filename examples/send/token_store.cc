#include "token_store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/fs.h"
#include "base/strings.h"

namespace send_server {

using villager::Result;

namespace {
constexpr size_t kMaxTokenName = 64;
constexpr size_t kTokenValueBytes = 24;
}  // namespace

bool valid_token_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxTokenName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

TokenStore::TokenStore(std::filesystem::path data_dir) : root_(std::move(data_dir) / "tokens") {}

Result<TokenRecord> TokenStore::create(std::string_view name) {
  if (!valid_token_name(name))
    return villager::InvalidArgument("token name must be 1-64 characters of A-Z a-z 0-9 - _");
  std::lock_guard lock(mu_);
  auto path = root_ / (std::string(name) + ".json");
  if (std::filesystem::exists(path))
    return villager::Conflict("token '" + std::string(name) + "' already exists");
  unsigned char bytes[kTokenValueBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing safe to do
  TokenRecord r;
  r.name = std::string(name);
  r.value = villager::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  r.created_at = villager::format_rfc3339(villager::real_clock().now());
  nlohmann::json j = {{"name", r.name},
                      {"value", r.value},
                      {"status", r.status},
                      {"created_at", r.created_at},
                      {"usage_limit", r.usage_limit},
                      {"usage_count", r.usage_count}};
  VILLAGER_RETURN_IF_ERROR(villager::ensure_dir(root_, std::filesystem::perms(0700)));
  auto s = villager::write_file_atomic(path, j.dump(2) + "\n", std::filesystem::perms(0600));
  if (!s) return s.error().context("writing token record");
  return r;
}

Result<std::vector<std::string>> TokenStore::list() {
  std::vector<std::string> names;
  std::error_code ec;
  if (!std::filesystem::exists(root_, ec)) return names;
  for (auto it = std::filesystem::directory_iterator(root_, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    auto file = it->path().filename().string();
    if (villager::ends_with(file, ".json")) names.push_back(file.substr(0, file.size() - 5));
  }
  if (ec) return villager::Internal("listing " + root_.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<TokenRecord> TokenStore::lookup(std::string_view name) {
  if (!valid_token_name(name))
    return villager::InvalidArgument("token name must be 1-64 characters of A-Z a-z 0-9 - _");
  auto text = villager::read_file(root_ / (std::string(name) + ".json"));
  if (!text) {
    if (text.error().code == villager::Code::kNotFound)
      return villager::NotFound("token '" + std::string(name) + "' not found");
    return text.error().context("reading token record");
  }
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return villager::Internal("token record '" + std::string(name) + "' is not JSON");
  TokenRecord r;
  r.name = j.value("name", std::string(name));
  r.status = j.value("status", "active");
  r.created_at = j.value("created_at", "");
  r.usage_limit = j.value("usage_limit", 50);
  r.usage_count = j.value("usage_count", 0);
  return r;  // the value stays on disk
}

}  // namespace send_server
