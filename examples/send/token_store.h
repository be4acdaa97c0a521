#pragma once
// Admin access-token records under DATA/tokens/NAME.json (mode 0600). The value is generated here and
// returned once by create(); lookup() and list() never return it.

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace send_server {

struct TokenRecord {
  std::string name;
  std::string value;  // only filled by create()
  std::string status = "active";
  std::string created_at;
  int usage_limit = 50;
  int usage_count = 0;
};

// Names are 1-64 characters of [A-Za-z0-9_-], so a name is always a safe file name.
bool valid_token_name(std::string_view name);

class TokenStore {
 public:
  explicit TokenStore(std::filesystem::path data_dir);

  // Conflict when the name exists, InvalidArgument for a bad name.
  villager::Result<TokenRecord> create(std::string_view name);
  villager::Result<std::vector<std::string>> list();
  // The record without its value; NotFound when absent.
  villager::Result<TokenRecord> lookup(std::string_view name);

 private:
  std::filesystem::path root_;  // DATA/tokens
  std::mutex mu_;               // Serialises create against create.
};

}  // namespace send_server
