#include "pipeline/package.h"

#include "artifact/git_info.h"
#include "base/fs.h"
#include "base/strings.h"
#include "base/subprocess.h"

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

Result<std::vector<PackagedService>> package_services(const config::Config& config,
                                                      const std::vector<std::string>& services,
                                                      std::vector<artifact::Finding>* findings,
                                                      const artifact::ZipOptions& zip) {
  std::vector<const config::ServiceConfig*> chosen;
  if (services.empty()) {
    for (const auto& s : config.services) chosen.push_back(&s);
  } else {
    std::vector<std::string> names;
    for (const auto& s : config.services) names.push_back(s.name);
    for (const auto& name : services) {
      const auto* s = config.service(name);
      if (!s) {
        std::string hint = suggest(name, names);
        return InvalidArgument("no service '" + name + "' in " + config.file.string() +
                               (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      chosen.push_back(s);
    }
  }
  auto version = read_project_version(config);
  if (!version) return version.error();

  // Scan everything before packing anything: a refused package writes nothing.
  // The same rules as `villager package`: one allowlist beside villager.toml, with paths from the project
  // root; a build directory cannot silence its own secrets.
  std::vector<artifact::Finding> all;
  artifact::ScanOptions scan_opts;
  scan_opts.default_allowlist = false;
  std::error_code ec;
  if (fs::exists(config.root / artifact::kAllowlistFileName, ec))
    scan_opts.allowlist = config.root / artifact::kAllowlistFileName;
  for (const auto* s : chosen) {
    fs::path dir = config.root / s->build_dir;
    scan_opts.path_prefix = fs::path(s->build_dir).lexically_normal().generic_string();
    if (!scan_opts.path_prefix.empty() && scan_opts.path_prefix.back() != '/') scan_opts.path_prefix += '/';
    auto found = artifact::scan_directory(dir, scan_opts);
    if (!found) return found.error().context("scanning " + s->name + " (" + dir.string() + ")");
    for (auto& f : *found) all.push_back(std::move(f));
  }
  if (!all.empty()) {
    if (findings) *findings = all;
    return PermissionDenied("secret scan found " + std::to_string(all.size()) +
                            (all.size() == 1 ? " possible secret" : " possible secrets") +
                            " in the build directories; nothing was packaged");
  }

  fs::path state = config.state_dir();
  auto rel_state = fs::relative(state, config.root, ec);
  auto git = artifact::read_git_info(
      config.root, ec ? std::vector<std::string>{} : std::vector<std::string>{rel_state.string()});
  int64_t commit_time = git_commit_time_ms(config.root, git.commit);
  std::vector<PackagedService> out;
  for (const auto* s : chosen) {
    artifact::PackRequest req;
    req.dir = config.root / s->build_dir;
    req.service = s->name;
    req.version = *version;
    req.git = git;
    req.store_dir = state / "artifacts";
    req.zip = zip;
    auto packed = artifact::pack_directory(req);
    if (!packed) return packed.error().context("packaging " + s->name);
    out.push_back({s->name, *version, *packed, commit_time});
  }
  return out;
}

}  // namespace villager::pipeline
