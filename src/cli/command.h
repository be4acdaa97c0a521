#pragma once
// The command table: every `villager` subcommand is one entry with a name, a one-line summary, its
// full help text and the function that runs it. A command that is not implemented is not in the table.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "pipeline/outcome.h"

namespace villager::cli {

// Exit codes, the same for every command: the pipeline's (pipeline/outcome.h).
using pipeline::ExitCode;
using pipeline::kExitFailed;
using pipeline::kExitGateRejected;
using pipeline::kExitHeld;
using pipeline::kExitOk;
using pipeline::kExitRolledBack;
using pipeline::kExitUsage;

struct Command {
  std::string_view name;
  std::string_view summary;  // one line, shown by `villager help`
  std::string_view help;     // full usage text, shown by `villager CMD --help`
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& command_table();

// Prints "villager: error: <message>" (redacted) to stderr and returns `code`.
int report_error(const Error& err, int code);
int report_error(const std::string& message, int code);
// Maps an error's code to an exit code: invalid argument -> 2, permission -> 3, else 1.
int exit_code_for(const Error& err);
// Prints the command's help text to stdout and returns 0.
int print_help(std::string_view help);

}  // namespace villager::cli
