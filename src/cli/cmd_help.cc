#include <iostream>

#include "base/strings.h"
#include "cli/build_info.h"
#include "cli/commands.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager help [COMMAND]

Lists every command with a one-line summary, or prints the full help of one command
(the same as `villager COMMAND --help`).
)";

int run_help(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] != "--help" && args[0] != "-h") {
    for (const auto& c : command_table())
      if (c.name == args[0]) return print_help(c.help);
    std::vector<std::string> names;
    for (const auto& c : command_table()) names.emplace_back(c.name);
    std::string hint = suggest(args[0], names);
    return report_error(
        "unknown command '" + args[0] + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
        kExitUsage);
  }
  if (!args.empty()) return print_help(kHelp);
  std::cout << "villager " << build_version() << ": a rollback-first release pipeline for web services\n\n"
            << "usage: villager [--version] COMMAND [ARGS...]\n\ncommands:\n";
  for (const auto& c : command_table()) {
    std::string name(c.name);
    name.resize(std::max<size_t>(name.size() + 2, 12), ' ');
    std::cout << "  " << name << c.summary << "\n";
  }
  std::cout << "\nRun `villager COMMAND --help` for a command's options. Exit codes: 0 ok, 1 failed,\n"
               "2 usage or config error, 3 gate rejected, 4 deployed and then rolled back.\n";
  return kExitOk;
}

}  // namespace

const Command kHelpCommand = {"help", "list the commands, or show one command's help", kHelp, run_help};

}  // namespace villager::cli
