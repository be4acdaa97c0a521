#pragma once
// AWS credentials from the standard places, in the AWS CLI's order: the environment variables
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) under profile AWS_PROFILE (else "default").
// The secret key and session token are registered for redaction as soon as they are read.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/redact.h"

namespace villager::aws {

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // empty for long-term keys
  std::string source;    // "environment" | "profile default in /root/.aws/credentials" (for messages)
};

// Where credentials are looked up; tests pass their own environment.
struct CredentialSources {
  std::function<std::optional<std::string>(const std::string&)> getenv;  // default: ::getenv
  std::optional<std::string> profile;                                    // overrides AWS_PROFILE
};

Result<Credentials> load_credentials(const CredentialSources& sources = {});

// Parses the INI text of a credentials file and returns `profile`'s keys.
Result<Credentials> parse_credentials_file(const std::string& text, const std::string& profile,
                                           const std::string& file_name);

}  // namespace villager::aws
