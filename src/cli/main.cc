// villager: dispatches the first word to the command table; the one top-level catch lives here.

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "cli/build_info.h"
#include "cli/commands.h"

using namespace villager;
using namespace villager::cli;

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  try {
    if (words.empty()) return command_table().front().run({});
    const std::string& first = words[0];
    if (first == "--version" || first == "version") {
      std::cout << "villager " << build_version() << " (commit " << build_commit() << ")\n";
      return kExitOk;
    }
    if (first == "--help" || first == "-h") return command_table().front().run({});
    std::vector<std::string> rest(words.begin() + 1, words.end());
    for (const auto& c : command_table())
      if (c.name == first) return c.run(rest);
    std::vector<std::string> names;
    for (const auto& c : command_table()) names.emplace_back(c.name);
    std::string hint = suggest(first, names);
    return report_error(
        "unknown command '" + first + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
        kExitUsage);
  } catch (const std::exception& e) {
    return report_error(std::string("internal error: ") + e.what(), kExitFailed);
  }
}
