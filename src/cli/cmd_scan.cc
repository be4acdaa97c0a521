#include <iostream>
#include <nlohmann/json.hpp>

#include "artifact/secret_scan.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/scan_output.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager scan [DIR] [--json] [--allowlist FILE]

Scans DIR (default: the current directory) for secrets that must not ship: AWS access key ids and
secret keys, PEM private keys, GitHub and Slack tokens, Slack webhooks, and high-entropy values
assigned to names like password, secret, token or api_key. `villager package` runs the same scan on
every build directory and refuses to pack when it finds something.

Each finding is printed as FILE:LINE:COL: RULE: MASKED fingerprint=HEX (the value is masked).
To silence a finding on purpose, add `villager:allow` on its line, or list it in the allowlist
(default DIR/.villager-scan-allow): one `rule:path-glob` or fingerprint per line, `#` comments.

options:
  --json             print {"findings": [...], "notes": [...], ...} instead of lines
  --allowlist FILE   use FILE instead of DIR/.villager-scan-allow

exit codes: 0 clean, 3 findings, 2 usage error (such as a missing DIR), 1 other failure.
)";

std::string display_prefix(const std::string& dir) {
  if (dir == "." || dir.empty()) return "";
  return dir.back() == '/' ? dir : dir + "/";
}

int run_scan(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {{"json"}, {"allowlist", true}});
  if (!args) return report_error(args.error().context("scan"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() > 1) return report_error("scan: takes at most one DIR", kExitUsage);
  std::string dir = args->positionals().empty() ? "." : args->positionals()[0];
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return report_error("scan: " + dir + ": not a directory", kExitUsage);
  artifact::ScanOptions opts;
  if (args->has("allowlist")) {
    opts.allowlist = args->get("allowlist");
    if (!std::filesystem::exists(opts.allowlist, ec))
      return report_error("scan: allowlist " + opts.allowlist.string() + " does not exist", kExitUsage);
  }
  auto report = artifact::scan_tree(dir, opts);
  if (!report) return report_error(report.error(), exit_code_for(report.error()));
  std::string prefix = display_prefix(dir);
  if (args->has("json")) {
    std::cout << findings_json(*report, prefix) << "\n";
  } else {
    print_findings_text(*report, prefix);
    std::cerr << "villager: scan: " << report->findings.size() << " finding(s) in " << report->files_scanned
              << " file(s) scanned";
    if (report->allowed) std::cerr << ", " << report->allowed << " allowed";
    std::cerr << "\n";
  }
  return report->findings.empty() ? kExitOk : kExitGateRejected;
}

}  // namespace

void print_findings_text(const artifact::ScanReport& r, const std::string& dir_label) {
  for (const auto& n : r.notes) std::cerr << "villager: note: " << dir_label << n << "\n";
  for (const auto& f : r.findings)
    std::cout << dir_label << f.file << ":" << f.line << ":" << f.column << ": " << f.rule << ": " << f.masked
              << " fingerprint=" << f.fingerprint << "\n";
}

std::string findings_json(const artifact::ScanReport& r, const std::string& dir_label) {
  nlohmann::ordered_json j;
  j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : r.findings)
    j["findings"].push_back({{"file", dir_label + f.file},
                             {"line", f.line},
                             {"column", f.column},
                             {"rule", f.rule},
                             {"value", f.masked},
                             {"fingerprint", f.fingerprint}});
  j["notes"] = nlohmann::ordered_json::array();
  for (const auto& n : r.notes) j["notes"].push_back(dir_label + n);
  j["files_scanned"] = r.files_scanned;
  j["allowed"] = r.allowed;
  return j.dump(2);
}

const Command kScanCommand = {"scan", "scan a directory for secrets that must not ship", kHelp, run_scan};

}  // namespace villager::cli
