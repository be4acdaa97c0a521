#include <iostream>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/project.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager config check [-c FILE] [--json]

Validates villager.toml strictly and reports every problem at once, one per line as
FILE:LINE:COL: message (unknown keys with a suggestion, wrong types, bad durations and
addresses, references to services or environments that do not exist, clashing listen
addresses). Deprecated keys (an inferred profile, SGraph Send keys directly in [smoke]) are
noted on stderr, each with its FILE:LINE:COL, and do not make the file invalid.

options:
  -c, --config FILE   the config file (default: $VILLAGER_CONFIG, else ./villager.toml)
  --json              print {"valid": bool, "errors": [...], "services": [...], "environments": [...]}

exit: 0 valid, 2 invalid or unreadable.
)";

int run_check(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"json"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (!args->positionals().empty()) return report_error("config check takes no arguments", kExitUsage);
  auto cfg = load_project(*args);
  // Keys and habits on their way out: said here, where the file is being looked at, not on every command.
  if (cfg)
    for (const auto& d : cfg->deprecations) std::cerr << "villager: deprecated: " << d << "\n";
  if (args->has("json")) {
    std::cout << "{\"valid\": " << (cfg ? "true" : "false") << ", \"errors\": [";
    if (!cfg) {
      auto lines = split(cfg.error().message, '\n');
      for (size_t i = 0; i < lines.size(); ++i) std::cout << (i ? ", " : "") << quote(lines[i]);
    }
    std::cout << "], \"services\": [";
    if (cfg)
      for (size_t i = 0; i < cfg->services.size(); ++i)
        std::cout << (i ? ", " : "") << quote(cfg->services[i].name);
    std::cout << "], \"environments\": [";
    if (cfg)
      for (size_t i = 0; i < cfg->environments.size(); ++i)
        std::cout << (i ? ", " : "") << quote(cfg->environments[i].name);
    std::cout << "]}\n";
    return cfg ? kExitOk : kExitUsage;
  }
  if (!cfg) {
    auto lines = split(cfg.error().message, '\n');
    for (const auto& l : lines) std::cerr << l << "\n";
    std::cerr << "villager: error: " << config_path(*args) << ": " << lines.size()
              << (lines.size() == 1 ? " problem" : " problems") << "\n";
    return kExitUsage;
  }
  std::cout << cfg->file.string() << ": ok (" << cfg->services.size() << " services, "
            << cfg->environments.size() << " environments)\n";
  return kExitOk;
}

constexpr std::string_view kGroupHelp = R"(usage: villager config SUBCOMMAND

subcommands:
  check    validate villager.toml and report every problem with its file:line:col
)";

int run_config(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") return print_help(kGroupHelp);
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "check") return run_check(rest);
  std::string hint = suggest(argv[0], {"check"});
  return report_error(
      "unknown config subcommand '" + argv[0] + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
      kExitUsage);
}

}  // namespace

const Command kConfigCommand = {"config", "validate villager.toml (config check)", kGroupHelp, run_config};

}  // namespace villager::cli
