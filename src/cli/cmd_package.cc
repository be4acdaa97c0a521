#include <iostream>
#include <nlohmann/json.hpp>

#include "artifact/git_info.h"
#include "artifact/pack.h"
#include "artifact/secret_scan.h"
#include "artifact/zip_diff.h"
#include "base/fs.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "cli/scan_output.h"

namespace villager::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHelp = R"(usage: villager package [SERVICE...] [--check] [--json] [-c FILE]

Packs each service's build_dir (every service when none is named) into a deterministic zip that AWS
Lambda accepts, stored content-addressed at STATE/artifacts/sha256/HEX.zip with a manifest HEX.json
(service, version from project.version_file, git commit and dirty flag, every file's sha256).
Prints one line per service: SERVICE VERSION sha256:HEX.

The secret scan (see `villager scan --help`) runs over every build_dir first; any finding stops the
command with exit 3 and nothing is written. The allowlist is .villager-scan-allow beside
villager.toml; its paths, like the findings printed, start at the project root (dist/user/...).

Determinism: entries sorted, mtime = $SOURCE_DATE_EPOCH (else 1980-01-01T00:00:02Z), uid/gid 0,
mode 0755 for owner-executable files else 0644, deflate level 6, no directories, symlinks refused.

options:
  --check            pack twice, the second time from a copy with every mtime touched, narrower
                     permissions and each directory walked in reverse; fail (exit 1) naming the
                     first differing entry if the digests differ
  --json             print a JSON array of {service, version, digest, zip, manifest, git_commit,
                     git_dirty, files, stored}; stored is false when the digest was
                     already in the store (nothing written)
  -c, --config FILE  the config file (default: $VILLAGER_CONFIG, else ./villager.toml)

exit codes: 0 packed, 1 failed (missing or empty build dir, a symlink inside, not reproducible),
2 usage or config error, 3 secrets found.
)";

Result<std::string> read_version(const config::Config& cfg) {
  fs::path p = cfg.root / cfg.project.version_file;
  auto text = read_file(p);
  if (!text) return text.error().context("reading project.version_file");
  std::string first = std::string(trim(split(*text, '\n').front()));
  if (first.empty())
    return InvalidArgument("reading project.version_file " + p.string() + ": empty first line");
  return first;
}

int run_package(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"check"}, {"json"}});
  if (!args) return report_error(args.error().context("package"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);

  std::vector<const config::ServiceConfig*> services;
  if (args->positionals().empty()) {
    for (const auto& s : cfg->services) services.push_back(&s);
  } else {
    std::vector<std::string> names;
    for (const auto& s : cfg->services) names.push_back(s.name);
    for (const auto& name : args->positionals()) {
      const auto* s = cfg->service(name);
      if (!s) {
        std::string hint = suggest(name, names);
        return report_error("package: unknown service '" + name + "'" +
                                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
                            kExitUsage);
      }
      services.push_back(s);
    }
  }
  if (services.empty()) return report_error("package: villager.toml declares no services", kExitUsage);

  auto version = read_version(*cfg);
  if (!version) return report_error(version.error().context("package"), kExitUsage);

  // Scan every build dir before packing any, so a finding leaves the store untouched. One allowlist for
  // the project, beside villager.toml, naming paths from the project root.
  artifact::ScanOptions scan_opts;
  scan_opts.default_allowlist = false;
  std::error_code ec;
  if (fs::exists(cfg->root / artifact::kAllowlistFileName, ec))
    scan_opts.allowlist = cfg->root / artifact::kAllowlistFileName;
  bool found = false;
  nlohmann::ordered_json scan_json = nlohmann::ordered_json::array();
  for (const auto* s : services) {
    fs::path dir = cfg->root / s->build_dir;
    if (!fs::is_directory(dir, ec))
      return report_error("package " + s->name + ": build dir " + dir.string() + " does not exist",
                          kExitFailed);
    scan_opts.path_prefix = fs::path(s->build_dir).lexically_normal().generic_string();
    if (!scan_opts.path_prefix.empty() && scan_opts.path_prefix.back() != '/') scan_opts.path_prefix += '/';
    auto report = artifact::scan_tree(dir, scan_opts);
    if (!report)
      return report_error(report.error().context("package " + s->name), exit_code_for(report.error()));
    if (report->findings.empty()) continue;
    found = true;
    if (args->has("json")) {
      auto j = nlohmann::ordered_json::parse(findings_json(*report, ""));
      j["service"] = s->name;
      scan_json.push_back(j);
    } else {
      print_findings_text(*report, "");
      std::cerr << "villager: package " << s->name << ": " << report->findings.size() << " secret(s) in "
                << s->build_dir << "\n";
    }
  }
  if (found) {
    if (args->has("json")) std::cout << nlohmann::ordered_json{{"secrets", scan_json}}.dump(2) << "\n";
    return report_error(
        "package: secrets found; nothing was packed (silence a deliberate one with "
        "`villager:allow` or .villager-scan-allow)",
        kExitGateRejected);
  }

  std::vector<std::string> exclude;
  fs::path state = cfg->state_dir();
  auto rel_state = fs::relative(state, cfg->root, ec);
  if (!ec && !rel_state.empty() && *rel_state.begin() != "..") exclude.push_back(rel_state.generic_string());
  artifact::GitInfo git = artifact::read_git_info(cfg->root, exclude);

  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto* s : services) {
    artifact::PackRequest req{cfg->root / s->build_dir, s->name, *version, git, state / "artifacts", {}};
    auto zip = artifact::build_zip(req.dir, req.zip);
    if (!zip) return report_error(zip.error().context("package " + s->name), kExitFailed);
    if (args->has("check")) {
      auto again =
          artifact::build_zip(req.dir, {.reverse_walk = true, .touch_mtimes = true, .mtime = zip->mtime});
      if (!again) return report_error(again.error().context("package --check " + s->name), kExitFailed);
      if (again->digest != zip->digest) {
        auto diff = artifact::first_zip_difference(zip->bytes, again->bytes);
        std::string what = !diff ? diff.error().message : diff->value_or("bytes differ");
        return report_error("package --check " + s->name + ": not reproducible: " + zip->digest + " then " +
                                again->digest + ": " + what,
                            kExitFailed);
      }
    }
    auto stored = artifact::store_zip(*zip, req);
    if (!stored) return report_error(stored.error().context("package " + s->name), kExitFailed);
    if (args->has("json")) {
      out.push_back({{"service", s->name},
                     {"version", *version},
                     {"digest", stored->digest},
                     {"zip", stored->zip_path.string()},
                     {"manifest", stored->manifest_path.string()},
                     {"git_commit", stored->manifest.git_commit},
                     {"git_dirty", stored->manifest.git_dirty},
                     {"files", stored->manifest.files.size()},
                     {"stored", !stored->already_stored}});
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
