#include "cli/command.h"

#include <iostream>

#include "base/redact.h"

namespace villager::cli {

int report_error(const std::string& message, int code) {
  std::cerr << redact("villager: error: " + message) << "\n";
  return code;
}

int report_error(const Error& err, int code) {
  return report_error(err.message, code);
}

int exit_code_for(const Error& err) {
  switch (err.code) {
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kPermissionDenied:
      return kExitGateRejected;
    default:
      return kExitFailed;
  }
}

int print_help(std::string_view help) {
  std::cout << help;
  if (!help.empty() && help.back() != '\n') std::cout << "\n";
  return kExitOk;
}

}  // namespace villager::cli
