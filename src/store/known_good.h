#pragma once
// known_good: every release marked known-good after its watch window, as history. The latest mark per
// environment + service is the current known-good release: the one a rollback returns to.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::store {

class Store;

struct KnownGood {
  int64_t id = 0;  // assigned on mark; orders the history
  std::string environment;
  std::string service;
  std::string digest;
  std::string version;
  int64_t marked_at = 0;  // unix ms; 0 = now
};

// Appends a mark and returns its id.
Result<int64_t> mark_known_good(Store& store, const KnownGood& mark);
// The latest mark, or std::nullopt if the service was never marked in that environment.
Result<std::optional<KnownGood>> current_known_good(Store& store, const std::string& environment,
                                                    const std::string& service);
// Newest first; limit 0 = all.
Result<std::vector<KnownGood>> known_good_history(Store& store, const std::string& environment,
                                                  const std::string& service, int limit = 0);

}  // namespace villager::store
