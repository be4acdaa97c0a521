#pragma once
// Control API tokens: one bearer token per environment (and one for the agent itself), each in
// <state>/tokens/<name>.token, mode 0600. The agent creates them; the CLI reads the one of the
// environment it acts on, so access to a token file is access to that environment.

#include <filesystem>
#include <string>

#include "base/error.h"

namespace villager::targets {

std::filesystem::path token_path(const std::filesystem::path& state_dir, const std::string& name);
// Reads the token, creating a fresh random one (32 bytes, hex) when the file does not exist.
Result<std::string> load_or_create_token(const std::filesystem::path& state_dir, const std::string& name);
Result<std::string> read_token(const std::filesystem::path& state_dir, const std::string& name);

inline constexpr const char* kAgentTokenName = "agent";

}  // namespace villager::targets
