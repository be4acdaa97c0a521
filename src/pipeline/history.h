#pragma once
// Reading the release history: which release a rollback returns to.

#include <string>

#include "base/error.h"
#include "store/store.h"

namespace villager::pipeline {

// The release a rollback of env/service returns to: the newest known-good release that is not the one
// serving now and that was not itself rolled back away from since it was marked. With `to_version`, the
// newest known-good release of that version. NotFound with a reason when there is none.
Result<store::KnownGood> rollback_target(store::Store& store, const std::string& env,
                                         const std::string& service, const std::string& current_digest,
                                         const std::string& to_version);

}  // namespace villager::pipeline
