#pragma once
// Transfers on disk in SGraph Send's key layout: DATA/transfers/{id[:2]}/{id}/meta.json and .../payload.
// meta.json holds sizes, timestamps, counters and a SHA-256 of the client IP, never names, keys or the raw
// IP (unless the raw-ip fault asks for it). The payload is stored verbatim (the client's IV||ciphertext).
// Thread-safe: one mutex serialises metadata updates.

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "base/error.h"

namespace send_server {

struct TransferMeta {
  std::string transfer_id;
  std::string status;  // "pending" until completed, then "completed"
  uint64_t file_size_bytes = 0;
  std::string created_at;
  std::string completed_at;  // empty while pending
  uint64_t downloads = 0;
  std::string sender_ip_hash;  // 64 hex digits
  std::string sender_ip;       // only with the raw-ip fault
};

// 12 lowercase hex characters, as SGraph Send's ids are.
bool valid_transfer_id(std::string_view id);
// Fresh random 12-hex-char id.
std::string new_transfer_id();

class TransferStore {
 public:
  TransferStore(std::filesystem::path data_dir, bool store_raw_ip);

  villager::Result<TransferMeta> create(uint64_t declared_size, std::string_view client_ip);
  // Stores the payload; NotFound for an unknown id, Conflict once the transfer is completed.
  villager::Result<TransferMeta> upload(std::string_view id, std::string_view payload);
  // FailedPrecondition when nothing was uploaded yet.
  villager::Result<TransferMeta> complete(std::string_view id);
  villager::Result<TransferMeta> info(std::string_view id);
  // The payload of a completed transfer; counts the download.
  villager::Result<std::string> download(std::string_view id);

  std::filesystem::path transfer_dir(std::string_view id) const;

 private:
  villager::Result<TransferMeta> load(std::string_view id) const;
  villager::Status save(const TransferMeta& meta) const;

  std::filesystem::path root_;  // DATA/transfers
  bool store_raw_ip_;
  std::mutex mu_;  // Serialises read-modify-write of meta.json.
};

std::string meta_to_json(const TransferMeta& meta, bool for_disk);

}  // namespace send_server
