#pragma once
// Unpacks an artifact zip into a release directory (the supervisor's releases/<service>/<digest>/).

#include <filesystem>

#include "base/error.h"

namespace villager::artifact {

// Extracts `zip` into `dest`, which must not exist yet: entries go to a scratch sibling that is renamed
// into place at the end, so `dest` appears whole or not at all. Refuses (InvalidArgument, nothing left
// behind) absolute paths, ".." or empty components, backslashes, duplicate paths, links and special
// entries. Files get 0755 when the entry's owner-exec bit is set, else 0644; directories 0755.
// An existing `dest` is a Conflict.
Status unpack_artifact(const std::filesystem::path& zip, const std::filesystem::path& dest);

}  // namespace villager::artifact
