#pragma once
// Packaging services from villager.toml: read the version file, scan the build directory for secrets,
// pack it deterministically and store it content-addressed. Shared by `villager package` and deploy.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "artifact/pack.h"
#include "artifact/secret_scan.h"
#include "base/error.h"
#include "config/config.h"

namespace villager::pipeline {

struct PackagedService {
  std::string service;
  std::string version;
  artifact::PackResult result;
  int64_t commit_time = 0;  // unix ms of the git commit's commit time (DORA lead time); 0 = unknown
};

// The commit time of `commit` in the git repository at `root` (`git show -s --format=%ct`), unix ms;
// 0 when it cannot be read (not a repository, unknown commit, no git).
int64_t git_commit_time_ms(const std::filesystem::path& root, const std::string& commit);

// The project version: the first line of project.version_file, trimmed ("v1.2.3").
Result<std::string> read_project_version(const config::Config& config);

// Packs each named service (all when empty). Refuses with PermissionDenied (exit 3) when the secret scan
// finds anything, listing every finding; `findings` receives them for the caller to print.
Result<std::vector<PackagedService>> package_services(const config::Config& config,
                                                      const std::vector<std::string>& services,
                                                      std::vector<artifact::Finding>* findings = nullptr,
                                                      const artifact::ZipOptions& zip = {});

}  // namespace villager::pipeline
