#pragma once
// The build step (`[services.X] build = [...]`, docs/python.md): what fills a service's build_dir,
// run before packaging in the project root with a clean environment that is recorded, so the same
// commit builds the same files wherever it runs. A failing build stops packaging with its exit code
// and the tail of its output.

#include <map>
#include <string>

#include "artifact/manifest.h"
#include "base/error.h"
#include "config/config.h"

namespace villager::pipeline {

// How many lines of the build's output the manifest keeps (and a failure prints).
inline constexpr size_t kBuildTailLines = 20;

// The whole environment a build runs with: PATH and HOME from villager's own environment,
// LANG=C.UTF-8, SOURCE_DATE_EPOCH (villager's, else the zip's default 315532802: the timestamp the
// artifact's entries get, so a build that stamps files agrees with the zip) and
// PYTHONDONTWRITEBYTECODE=1. Nothing else is inherited.
std::map<std::string, std::string> build_environment();

// The last `lines` lines of `text` (all of it when shorter), without a trailing newline.
std::string tail_lines(const std::string& text, size_t lines);

// Runs the service's build (nothing to do without one: returns an empty record with an empty command),
// then each build_tools line, and records them. A build that cannot start, exits non-zero, is killed
// or times out is FailedPrecondition naming the service, the command, the exit code and the output tail.
Result<artifact::BuildRecord> run_build(const config::Config& config, const config::ServiceConfig& service);

}  // namespace villager::pipeline
