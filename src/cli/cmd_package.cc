#include <iostream>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "cli/scan_output.h"
#include "pipeline/build_step.h"
#include "pipeline/package.h"
#include "pipeline/python_deps_step.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp =
    R"(usage: villager package [SERVICE...] [--check] [--skip-build] [--json] [-c FILE]

Packs each service's build_dir (every service when none is named) into a deterministic zip that AWS
Lambda accepts, stored content-addressed at STATE/artifacts/sha256/HEX.zip with a manifest HEX.json
(service, version from project.version_file, git commit and dirty flag, every file's sha256).
Prints one line per service: SERVICE VERSION sha256:HEX.

A service with a build step (`build = [...]`, docs/python.md) is built first, in the project root
with a clean environment (PATH, HOME, LANG=C.UTF-8, SOURCE_DATE_EPOCH, PYTHONDONTWRITEBYTECODE=1);
its exit code, duration, output tail and build_tools versions go in the manifest. A failing build
stops the command (exit 1) with its exit code and last output lines, and nothing is packed.
A service with `python_deps` then gets its Python dependencies vendored into build_dir/target,
offline (docs/python.md); they are listed in the manifest (python_deps: name, version, sha256), and
a shared object built for another architecture or Python stops the command (exit 1) naming it.

The secret scan (see `villager scan --help`) runs over every build_dir first; any finding stops the
command with exit 3 and nothing is written. The allowlist is .villager-scan-allow beside
villager.toml; its paths, like the findings printed, start at the project root (dist/user/...).

Determinism: entries sorted, mtime = $SOURCE_DATE_EPOCH (else 1980-01-01T00:00:02Z), uid/gid 0,
mode 0755 for owner-executable files else 0644, deflate level 6, no directories, symlinks refused.

options:
  --check            pack twice, the second time from a copy with every mtime touched, narrower
                     permissions and each directory walked in reverse; fail (exit 1) naming the
                     first differing entry if the digests differ
  --skip-build       package the build_dirs as they are; no build step runs (none is recorded)
                     and nothing is vendored (what is in python_deps.target is still listed)
  --json             print a JSON array of {service, version, digest, zip, manifest, git_commit,
                     git_dirty, files, stored, python_deps, build}; stored is false when the digest was
                     already in the store (nothing written); build is {exit_code, duration_ms}
                     when the build step ran, else null
  -c, --config FILE  the config file (default: $VILLAGER_CONFIG, else ./villager.toml)

exit codes: 0 packed, 1 failed (a failing build, missing or empty build dir, a symlink inside, not
reproducible),
2 usage or config error, 3 secrets found.
)";

nlohmann::ordered_json python_deps_json(const std::vector<artifact::PythonDep>& deps) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& d : deps) out.push_back({{"name", d.name}, {"version", d.version}, {"sha256", d.sha256}});
  return out;
}

int run_package(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"check"}, {"skip-build"}, {"json"}});
  if (!args) return report_error(args.error().context("package"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);

  auto services = pipeline::choose_services(*cfg, args->positionals());
  if (!services) return report_error(services.error().context("package"), kExitUsage);
  if (services->empty()) return report_error("package: villager.toml declares no services", kExitUsage);
  auto version = pipeline::read_project_version(*cfg);
  if (!version) return report_error(version.error().context("package"), kExitUsage);

  // Build first: the scan and the zip see what the build wrote.
  const artifact::GitInfo git = pipeline::project_git_info(*cfg);
  std::map<std::string, artifact::BuildRecord> builds;
  for (const auto* s : *services) {
    if (args->has("skip-build") || s->build.empty()) continue;
    std::cerr << "villager: building " << s->name << ": " << join(s->build, " ") << "\n";
    auto built = pipeline::run_build(*cfg, *s);
    if (!built) return report_error(built.error().context("package"), kExitFailed);
    std::cerr << "villager: built " << s->name << " in " << built->duration_ms << "ms (exit 0)\n";
    builds[s->name] = std::move(*built);
  }
  for (const auto* s : *services) {
    if (args->has("skip-build") || !s->python_deps) continue;
    std::cerr << "villager: vendoring " << s->name << "'s python_deps from " << s->python_deps->from << "\n";
    auto vendored = pipeline::vendor_python_deps(*cfg, *s);
    if (!vendored.ok()) return report_error(vendored.error().context("package"), kExitFailed);
  }

  // Scan every build dir before packing any, so a finding leaves the store untouched.
  auto scans = pipeline::scan_services(*cfg, *services);
  if (!scans) return report_error(scans.error().context("package"), exit_code_for(scans.error()));
  bool found = false;
  nlohmann::ordered_json scan_json = nlohmann::ordered_json::array();
  for (const auto& scan : *scans) {
    if (scan.report.findings.empty()) continue;
    found = true;
    if (args->has("json")) {
      auto j = nlohmann::ordered_json::parse(findings_json(scan.report, ""));
      j["service"] = scan.service->name;
      scan_json.push_back(j);
    } else {
      print_findings_text(scan.report, "");
      std::cerr << "villager: package " << scan.service->name << ": " << scan.report.findings.size()
                << " secret(s) in " << scan.service->build_dir << "\n";
    }
  }
  if (found) {
    if (args->has("json")) std::cout << nlohmann::ordered_json{{"secrets", scan_json}}.dump(2) << "\n";
    return report_error(
        "package: secrets found; nothing was packed (silence a deliberate one with "
        "`villager:allow` or .villager-scan-allow)",
        kExitGateRejected);
  }

  pipeline::PackOptions pack;
  pack.check = args->has("check");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto* s : *services) {
    pack.build.reset();
    if (auto b = builds.find(s->name); b != builds.end()) pack.build = b->second;
    auto stored = pipeline::pack_service(*cfg, *s, *version, git, pack);
    if (!stored) return report_error(stored.error().context("package"), kExitFailed);
    if (args->has("json")) {
      out.push_back({{"service", s->name},
                     {"version", *version},
                     {"digest", stored->digest.full()},
                     {"zip", stored->zip_path.string()},
                     {"manifest", stored->manifest_path.string()},
                     {"git_commit", stored->manifest.git_commit},
                     {"git_dirty", stored->manifest.git_dirty},
                     {"files", stored->manifest.files.size()},
                     {"stored", !stored->already_stored},
                     {"python_deps", python_deps_json(stored->manifest.python_deps)},
                     {"build", pack.build ? nlohmann::ordered_json{{"exit_code", pack.build->exit_code},
                                                                   {"duration_ms", pack.build->duration_ms}}
                                          : nlohmann::ordered_json()}});
    } else {
      std::cout << s->name << " " << *version << " " << stored->digest << "\n";
    }
  }
  if (args->has("json")) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

const Command kPackageCommand = {"package", "pack each service into a reproducible, content-addressed zip",
                                 kHelp, run_package};

}  // namespace villager::cli
