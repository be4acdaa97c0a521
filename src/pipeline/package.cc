#include "pipeline/package.h"

#include "artifact/git_info.h"
#include "artifact/zip_diff.h"
#include "base/fs.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "pipeline/build_step.h"
#include "pipeline/python_deps_step.h"

namespace villager::pipeline {

Result<std::string> read_project_version(const config::Config& config) {
  fs::path file = config.root / config.project.version_file;
  auto text = read_file(file);
  if (!text) return text.error().context("reading the project version (project.version_file)");
  std::string v(trim(split(*text, '\n')[0]));
  if (v.empty()) return InvalidArgument(file.string() + ": empty version file");
  return v;
}

int64_t git_commit_time_ms(const fs::path& root, const std::string& commit) {
  if (commit.empty() || commit == "unknown") return 0;
  // Bounded: a hung git must not hang packaging.
  RunOptions opts;
  opts.cwd = root.string();
  opts.timeout = std::chrono::seconds(10);
  auto r = run_process({"git", "show", "-s", "--format=%ct", commit}, opts);
  if (!r || r->exit_code != 0) return 0;
  std::string text(trim(r->out));
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoll(text) * 1000;
}

Result<std::vector<const config::ServiceConfig*>> choose_services(const config::Config& config,
                                                                  const std::vector<std::string>& names) {
  std::vector<const config::ServiceConfig*> chosen;
  if (names.empty()) {
    // A service without build_dir is only checked and watched (url environments): nothing to pack.
    for (const auto& s : config.services)
      if (!s.build_dir.empty()) chosen.push_back(&s);
    if (chosen.empty())
      return InvalidArgument("no service in " + config.file.string() +
                             " has a build_dir: nothing to package (services of url environments are "
                             "checked and watched, never deployed)");
    return chosen;
  }
  std::vector<std::string> known;
  for (const auto& s : config.services) known.push_back(s.name);
  for (const auto& name : names) {
    const auto* s = config.service(name);
    if (!s) {
      std::string hint = suggest(name, known);
      return InvalidArgument("no service '" + name + "' in " + config.file.string() +
                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (s->build_dir.empty())
      return InvalidArgument(
          "[services." + name + "] in " + config.file.string() +
          " has no build_dir: it is checked and watched only, so there is nothing to package");
    chosen.push_back(s);
  }
  return chosen;
}

Result<std::vector<ServiceScan>> scan_services(const config::Config& config,
                                               const std::vector<const config::ServiceConfig*>& services) {
  artifact::ScanOptions opts;
  opts.default_allowlist = false;
  std::error_code ec;
  if (fs::exists(config.root / artifact::kAllowlistFileName, ec))
    opts.allowlist = config.root / artifact::kAllowlistFileName;
  std::vector<ServiceScan> out;
  for (const auto* s : services) {
    fs::path dir = config.root / s->build_dir;
    if (!fs::is_directory(dir, ec))
      return NotFound("service " + s->name + ": build dir " + dir.string() + " does not exist");
    opts.path_prefix = fs::path(s->build_dir).lexically_normal().generic_string();
    if (!opts.path_prefix.empty() && opts.path_prefix.back() != '/') opts.path_prefix += '/';
    auto report = artifact::scan_tree(dir, opts);
    if (!report) return report.error().context("scanning " + s->name + " (" + dir.string() + ")");
    out.push_back({s, std::move(*report)});
  }
  return out;
}

artifact::GitInfo project_git_info(const config::Config& config) {
  std::vector<std::string> exclude;
  std::error_code ec;
  auto rel_state = fs::relative(config.state_dir(), config.root, ec);
  if (!ec && !rel_state.empty() && *rel_state.begin() != "..") exclude.push_back(rel_state.generic_string());
  return artifact::read_git_info(config.root, exclude);
}

Result<artifact::PackResult> pack_service(const config::Config& config, const config::ServiceConfig& service,
                                          const std::string& version, const artifact::GitInfo& git,
                                          const PackOptions& options) {
  // Before packing: a shared object built for another platform is refused, naming the file.
  auto deps = checked_python_deps(config, service);
  if (!deps) return deps.error().context("packaging " + service.name);
  artifact::PackRequest req{config.root / service.build_dir,  service.name, version,       git,
                            config.state_dir() / "artifacts", options.zip,  options.build, std::move(*deps)};
  auto zip = artifact::build_zip(req.dir, req.zip);
  if (!zip) return zip.error().context("packaging " + service.name);
  if (options.check) {
    artifact::ZipOptions touched = options.zip;
    touched.reverse_walk = true;
    touched.touch_mtimes = true;
    touched.mtime = zip->mtime;
    auto again = artifact::build_zip(req.dir, touched);
    if (!again) return again.error().context("packaging " + service.name + " again (--check)");
    if (again->digest != zip->digest) {
      auto diff = artifact::first_zip_difference(zip->bytes, again->bytes);
      std::string what = !diff ? diff.error().message : diff->value_or("bytes differ");
      return FailedPrecondition(service.name + ": not reproducible: " + zip->digest.full() + " then " +
                                again->digest.full() + ": " + what);
    }
  }
  auto stored = artifact::store_zip(*zip, req);
  if (!stored) return stored.error().context("packaging " + service.name);
  return stored;
}

Result<std::vector<PackagedService>> package_services(const config::Config& config,
                                                      const std::vector<std::string>& services,
                                                      std::vector<artifact::Finding>* findings,
                                                      const artifact::ZipOptions& zip, bool skip_build) {
  auto chosen = choose_services(config, services);
  if (!chosen) return chosen.error();
  auto version = read_project_version(config);
  if (!version) return version.error();
  artifact::GitInfo git = project_git_info(config);
  int64_t commit_time = git_commit_time_ms(config.root, git.commit);

  // Build before scanning: the scan and the zip see what the build wrote.
  std::map<std::string, artifact::BuildRecord> builds;
  for (const auto* s : *chosen) {
    if (skip_build || s->build.empty()) continue;
    auto built = run_build(config, *s);
    if (!built) return built.error();
    builds[s->name] = std::move(*built);
  }
  for (const auto* s : *chosen) {
    if (skip_build) continue;
    if (auto vendored = vendor_python_deps(config, *s); !vendored.ok()) return vendored.error();
  }

  // Scan everything before packing anything: a refused package writes nothing.
  auto scans = scan_services(config, *chosen);
  if (!scans) return scans.error();
  std::vector<artifact::Finding> all;
  for (auto& scan : *scans)
    for (auto& f : scan.report.findings) all.push_back(std::move(f));
  if (!all.empty()) {
    if (findings) *findings = all;
    return PermissionDenied("secret scan found " + std::to_string(all.size()) +
                            (all.size() == 1 ? " possible secret" : " possible secrets") +
                            " in the build directories; nothing was packaged");
  }

  std::vector<PackagedService> out;
  for (const auto* s : *chosen) {
    PackOptions pack;
    pack.zip = zip;
    if (auto b = builds.find(s->name); b != builds.end()) pack.build = b->second;
    auto packed = pack_service(config, *s, *version, git, pack);
    if (!packed) return packed.error();
    out.push_back({s->name, *version, *packed, commit_time});
  }
  return out;
}

}  // namespace villager::pipeline
