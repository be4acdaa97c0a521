#pragma once
// Where approvals live: `<state_dir>/approvals/<digest hex>/<env>__<role>__<signer>.json`. Each file is
// self-contained (it can be committed or carried to another machine); its place only helps find it, so
// the gate trusts the signed payload, never the path.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/hash.h"
#include "gate/approval.h"

namespace villager::gate {

std::filesystem::path approval_path(const std::filesystem::path& approvals_dir, const Approval& a);

// Writes the signed approval to its place atomically (mode 0644: approvals are not secret); replaces an
// earlier approval by the same signer for the same digest, environment and role. Returns the path.
Result<std::filesystem::path> write_approval(const std::filesystem::path& approvals_dir,
                                             const SignedApproval& s);

// One file found under the approvals folder, parsed or not.
struct StoredApproval {
  std::filesystem::path path;
  Digest dir_digest;     // from the folder name (empty when the folder is not a digest's hex)
  std::string file_env;  // the <env> part of the file name ("" when the name has another shape)
  std::optional<SignedApproval> parsed;
  std::string parse_error;  // set when !parsed
};

// Every *.json under the approvals folder (only under <hex>/ when `digest` is not empty), sorted by path.
// A missing folder is an empty list; a file that does not parse is listed with parse_error.
Result<std::vector<StoredApproval>> list_approvals(const std::filesystem::path& approvals_dir,
                                                   const Digest& digest = {});

}  // namespace villager::gate
