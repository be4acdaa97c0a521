#pragma once
// Packaging services from villager.toml: read the version file, scan the build directory for secrets,
// pack it deterministically and store it content-addressed. Shared by `villager package` and deploy.

#include <cstdint>
#include <filesystem>
#include <optional>
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

// The steps, for callers that report each one (`villager package`); package_services runs them in order.

// The services named (every service when `names` is empty). An unknown name is InvalidArgument with a
// did-you-mean.
Result<std::vector<const config::ServiceConfig*>> choose_services(const config::Config& config,
                                                                  const std::vector<std::string>& names);

// The secret scan of each service's build directory, by the project's rules: one allowlist, the
// .villager-scan-allow beside villager.toml (a build directory cannot silence its own secrets), and
// finding paths from the project root ("dist/user/app.py"). A missing build directory is NotFound.
struct ServiceScan {
  const config::ServiceConfig* service = nullptr;
  artifact::ScanReport report;
};
Result<std::vector<ServiceScan>> scan_services(const config::Config& config,
                                               const std::vector<const config::ServiceConfig*>& services);

// The project's git commit and dirty flag; the state directory does not count as a change.
artifact::GitInfo project_git_info(const config::Config& config);

struct PackOptions {
  // Pack twice, the second time from a touched copy walked in reverse; a different digest fails
  // (FailedPrecondition naming the first differing entry) and stores nothing.
  bool check = false;
  artifact::ZipOptions zip;
  std::optional<artifact::BuildRecord> build;  // the build step's run, recorded in the manifest
};
// Builds one service's zip and stores it content-addressed under the state directory. A service with
// python_deps has its shared objects checked first (one built for another platform or Python is
// FailedPrecondition naming it) and its vendored distributions listed in the manifest.
Result<artifact::PackResult> pack_service(const config::Config& config, const config::ServiceConfig& service,
                                          const std::string& version, const artifact::GitInfo& git,
                                          const PackOptions& options = {});

// Packs each named service (all when empty): runs each service's build step first and vendors its
// python_deps (unless `skip_build`; a failing one is FailedPrecondition with its exit code and output
// tail), then scans
// every build directory and refuses with PermissionDenied (exit 3) when anything is found, listing the
// findings in `findings`; then packs.
Result<std::vector<PackagedService>> package_services(const config::Config& config,
                                                      const std::vector<std::string>& services,
                                                      std::vector<artifact::Finding>* findings = nullptr,
                                                      const artifact::ZipOptions& zip = {},
                                                      bool skip_build = false);

}  // namespace villager::pipeline
