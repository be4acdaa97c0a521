#pragma once
// releases: packaged, content-addressed builds, one row per service + digest.

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::store {

class Store;

struct Release {
  std::string service;
  std::string version;      // "v1.4.2"
  std::string digest;       // "sha256:<64 hex>"
  std::string git_commit;   // "" when not built from git
  bool dirty = false;       // built from a work tree with uncommitted changes
  int64_t created_at = 0;   // unix ms; 0 = now (from the store's clock)
  int64_t commit_time = 0;  // unix ms of git_commit's commit time; 0 = unknown (kept on upsert)
};

// Inserts the release, or updates version/git_commit/dirty of the existing service+digest row
// (created_at of an existing row is kept: it records when the digest was first seen; so is a known
// commit_time when the new one is 0).
Status upsert_release(Store& store, const Release& release);
// NotFound when the service has no release with that digest.
Result<Release> get_release(Store& store, const std::string& service, const std::string& digest);
// Newest first (created_at, then digest for a stable order).
Result<std::vector<Release>> list_releases(Store& store, const std::string& service);

}  // namespace villager::store
