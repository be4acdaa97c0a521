#pragma once
// Version and git commit baked in at build time (cmake/build_info.cmake).

namespace villager {
const char* build_version();
const char* build_commit();
}  // namespace villager
