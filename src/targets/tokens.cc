#include "targets/tokens.h"

#include <openssl/rand.h>

#include "base/fs.h"
#include "base/strings.h"

namespace villager::targets {

std::filesystem::path token_path(const std::filesystem::path& state_dir, const std::string& name) {
  return state_dir / "tokens" / (name + ".token");
}

Result<std::string> read_token(const std::filesystem::path& state_dir, const std::string& name) {
  auto path = token_path(state_dir, name);
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == Code::kNotFound)
      return NotFound("no control token for '" + name + "' at " + path.string() +
                      " (is the agent running? start it with `villager agent`)");
    return text.error();
  }
  std::string token(trim(*text));
  if (token.size() < 32) return FailedPrecondition("control token " + path.string() + " is too short");
  return token;
}

Result<std::string> load_or_create_token(const std::filesystem::path& state_dir, const std::string& name) {
  auto path = token_path(state_dir, name);
  if (fs::exists(path)) return read_token(state_dir, name);
  VILLAGER_RETURN_IF_ERROR(ensure_dir(path.parent_path(), fs::perms(0700)));
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Internal("no randomness for a control token");
  std::string token = hex_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  VILLAGER_RETURN_IF_ERROR(write_file_atomic(path, token + "\n", fs::perms(0600)));
  return token;
}

}  // namespace villager::targets
