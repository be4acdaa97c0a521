#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "cli/project.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager init [-c FILE]

Writes a commented starter villager.toml with the SGraph Send preset (services user and admin,
environments explorer and production, smoke and alarm defaults). It passes `villager config
check` as written. Refuses to overwrite an existing file.

options:
  -c, --config FILE   where to write it (default ./villager.toml)
)";

int run_init(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (!args->positionals().empty()) return report_error("init takes no arguments", kExitUsage);
  std::string path = args->has("config") ? args->get("config") : "villager.toml";
  if (fs::exists(path)) return report_error(path + " already exists; not overwriting it", kExitFailed);
  if (auto s = write_file_atomic(path, config::starter_config()); !s.ok())
    return report_error(s.error().context("writing " + path), kExitFailed);
  std::cout << "wrote " << path << "\n";
  std::cerr << "next: edit it, then run `villager config check`\n";
  return kExitOk;
}

}  // namespace

const Command kInitCommand = {"init", "write a starter villager.toml (SGraph Send preset)", kHelp, run_init};

}  // namespace villager::cli
