#include "transfer_store.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"

namespace send_server {

using villager::Conflict;
using villager::FailedPrecondition;
using villager::Internal;
using villager::InvalidArgument;
using villager::NotFound;
using villager::Result;
using villager::Status;

namespace {
constexpr size_t kTransferIdHexChars = 12;

std::string now_text() {
  return villager::format_rfc3339(villager::real_clock().now());
}
}  // namespace

bool valid_transfer_id(std::string_view id) {
  if (id.size() != kTransferIdHexChars) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string new_transfer_id() {
  unsigned char bytes[kTransferIdHexChars / 2];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing safe to do
  return villager::hex_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string meta_to_json(const TransferMeta& m, bool for_disk) {
  nlohmann::json j = {
      {"transfer_id", m.transfer_id},
      {"status", m.status},
      {"file_size_bytes", m.file_size_bytes},
      {"created_at", m.created_at},
      {"completed_at", m.completed_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.completed_at)},
      {"downloads", m.downloads},
  };
  if (for_disk) {
    j["sender_ip_hash"] = m.sender_ip_hash;
    if (!m.sender_ip.empty()) j["sender_ip"] = m.sender_ip;
  }
  return j.dump(2) + "\n";
}

TransferStore::TransferStore(std::filesystem::path data_dir, bool store_raw_ip)
    : root_(std::move(data_dir) / "transfers"), store_raw_ip_(store_raw_ip) {}

std::filesystem::path TransferStore::transfer_dir(std::string_view id) const {
  return root_ / std::string(id.substr(0, 2)) / std::string(id);
}

Result<TransferMeta> TransferStore::load(std::string_view id) const {
  if (!valid_transfer_id(id)) return InvalidArgument("transfer id must be 12 lowercase hex characters");
  auto path = transfer_dir(id) / "meta.json";
  auto text = villager::read_file(path);
  if (!text) {
    if (text.error().code == villager::Code::kNotFound)
      return NotFound("transfer " + std::string(id) + " not found");
    return text.error().context("reading transfer meta");
  }
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Internal("transfer " + std::string(id) + ": meta.json is not JSON");
  TransferMeta m;
  m.transfer_id = j.value("transfer_id", std::string(id));
  m.status = j.value("status", "pending");
  m.file_size_bytes = j.value("file_size_bytes", uint64_t{0});
  m.created_at = j.value("created_at", "");
  if (j.contains("completed_at") && j["completed_at"].is_string()) m.completed_at = j["completed_at"];
  m.downloads = j.value("downloads", uint64_t{0});
  m.sender_ip_hash = j.value("sender_ip_hash", "");
  m.sender_ip = j.value("sender_ip", "");
  return m;
}

Status TransferStore::save(const TransferMeta& m) const {
  auto dir = transfer_dir(m.transfer_id);
  VILLAGER_RETURN_IF_ERROR(villager::ensure_dir(dir));
  auto s = villager::write_file_atomic(dir / "meta.json", meta_to_json(m, /*for_disk=*/true));
  if (!s) return s.error().context("writing transfer meta");
  return villager::Ok();
}

Result<TransferMeta> TransferStore::create(uint64_t declared_size, std::string_view client_ip) {
  std::lock_guard lock(mu_);
  TransferMeta m;
  for (int attempt = 0;; ++attempt) {
    m.transfer_id = new_transfer_id();
    if (!std::filesystem::exists(transfer_dir(m.transfer_id))) break;
    if (attempt > 8) return Internal("could not find a free transfer id");
  }
  m.status = "pending";
  m.file_size_bytes = declared_size;
  m.created_at = now_text();
  m.sender_ip_hash = villager::sha256_hex(client_ip);
  if (store_raw_ip_) m.sender_ip = std::string(client_ip);
  VILLAGER_RETURN_IF_ERROR(save(m));
  return m;
}

Result<TransferMeta> TransferStore::upload(std::string_view id, std::string_view payload) {
  std::lock_guard lock(mu_);
  auto m = load(id);
  if (!m) return m.error();
  if (m->status != "pending") return Conflict("transfer " + std::string(id) + " is already " + m->status);
  auto s = villager::write_file_atomic(transfer_dir(id) / "payload", payload);
  if (!s) return s.error().context("writing payload");
  m->file_size_bytes = payload.size();
  VILLAGER_RETURN_IF_ERROR(save(*m));
  return m;
}

Result<TransferMeta> TransferStore::complete(std::string_view id) {
  std::lock_guard lock(mu_);
  auto m = load(id);
  if (!m) return m.error();
  if (m->status == "completed") return m;  // idempotent: a retried complete is not an error
  if (!std::filesystem::exists(transfer_dir(id) / "payload"))
    return FailedPrecondition("transfer " + std::string(id) + " has no payload yet");
  m->status = "completed";
  m->completed_at = now_text();
  VILLAGER_RETURN_IF_ERROR(save(*m));
  return m;
}

Result<TransferMeta> TransferStore::info(std::string_view id) {
  std::lock_guard lock(mu_);
  return load(id);
}

Result<std::string> TransferStore::download(std::string_view id) {
  std::lock_guard lock(mu_);
  auto m = load(id);
  if (!m) return m.error();
  if (m->status != "completed")
    return FailedPrecondition("transfer " + std::string(id) + " is not completed");
  auto payload = villager::read_file(transfer_dir(id) / "payload");
  if (!payload) return payload.error().context("reading payload");
  m->downloads += 1;
  VILLAGER_RETURN_IF_ERROR(save(*m));
  return payload;
}

}  // namespace send_server
