#include "aws/credentials.h"

#include <cstdlib>

#include "base/fs.h"
#include "base/strings.h"

namespace villager::aws {

namespace {

std::optional<std::string> real_getenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

}  // namespace

Result<Credentials> parse_credentials_file(const std::string& text, const std::string& profile,
                                           const std::string& file_name) {
  std::string section;
  bool found = false;
  Credentials c;
  int line_no = 0;
  for (const auto& raw : split(text, '\n')) {
    ++line_no;
    auto line = std::string(trim(raw));
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']')
        return InvalidArgument(file_name + ":" + std::to_string(line_no) + ": unterminated section header");
      section = std::string(trim(std::string_view(line).substr(1, line.size() - 2)));
      // ~/.aws/config spells non-default sections "profile NAME"; accept that here too.
      if (starts_with(section, "profile ")) section = std::string(trim(section.substr(8)));
      if (section == profile) found = true;
      continue;
    }
    if (section != profile) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto key = to_lower(trim(std::string_view(line).substr(0, eq)));
    auto value = std::string(trim(std::string_view(line).substr(eq + 1)));
    if (key == "aws_access_key_id")
      c.access_key_id = value;
    else if (key == "aws_secret_access_key")
      c.secret_access_key = Secret(value);
    else if (key == "aws_session_token")
      c.session_token = Secret(value);
  }
  if (!found) return NotFound(file_name + ": no profile [" + profile + "]");
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return InvalidArgument(file_name + ": profile [" + profile +
                           "] needs both aws_access_key_id and aws_secret_access_key");
  c.source = "profile " + profile + " in " + file_name;
  return c;
}

Result<Credentials> load_credentials(const CredentialSources& sources) {
  auto env = sources.getenv ? sources.getenv : real_getenv;
  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (id || secret) {
    if (!id || !secret)
      return InvalidArgument(
          "AWS credentials in the environment need both AWS_ACCESS_KEY_ID and "
          "AWS_SECRET_ACCESS_KEY");
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = Secret(*secret);
    if (auto token = env("AWS_SESSION_TOKEN")) c.session_token = Secret(*token);
    c.source = "environment";
    return c;
  }
  std::string profile = sources.profile ? *sources.profile : env("AWS_PROFILE").value_or("default");
  std::string file;
  if (auto f = env("AWS_SHARED_CREDENTIALS_FILE")) {
    file = *f;
  } else if (auto home = env("HOME")) {
    file = *home + "/.aws/credentials";
  } else {
    return NotFound(
        "no AWS credentials: AWS_ACCESS_KEY_ID is unset and there is no HOME to find "
        "~/.aws/credentials");
  }
  auto text = read_file(file);
  if (!text)
    return NotFound("no AWS credentials: AWS_ACCESS_KEY_ID is unset and " + file + " cannot be read (" +
                    text.error().message + ")");
  return parse_credentials_file(*text, profile, file);
}

}  // namespace villager::aws
