#include "secrets/scan.h"

#include "base/fs.h"
#include "base/strings.h"
#include "secrets/key.h"
#include "secrets/secret_file.h"
#include "secrets/secret_store.h"

namespace villager::secrets {

namespace {

constexpr size_t kMinValueBytes = 4;

std::vector<std::pair<std::string, std::string>> forms_of(const std::string& v) {
  std::string hex = hex_encode(v);
  std::string upper = hex;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {{"raw", v},
          {"hex", hex},
          {"HEX", upper},
          {"base64", base64_encode(v)},
          {"base64url", base64url_encode(v)}};
}

}  // namespace

std::vector<KnownSecret> known_secrets(const fs::path& state_dir, const std::string& env) {
  std::vector<KnownSecret> out;
  if (!valid_env_name(env)) return out;
  fs::path file = secrets_file(state_dir, env);
  if (!fs::exists(file)) return out;
  auto key = load_key(KeySource::for_env(state_dir, env));
  if (!key) return out;
  auto text = read_file(file);
  if (!text) return out;
  // Prefer the verified file (labels with versions); fall back to whatever lines still open.
  auto opened = parse_and_verify(*text, env, *key, file.string());
  if (opened) {
    for (size_t i = 0; i < opened->file.lines.size(); ++i) {
      const auto& l = opened->file.lines[i];
      if (!l.removed)
        out.push_back({env + "/" + l.name + " v" + std::to_string(l.version), opened->values[i]});
    }
    return out;
  }
  for (auto& s : open_what_opens(*text, env, *key)) out.push_back({env + "/(unverified line)", std::move(s)});
  return out;
}

Result<std::vector<Leak>> scan_for_secrets(const std::vector<fs::path>& roots,
                                           const std::vector<KnownSecret>& secrets) {
  std::vector<std::pair<const KnownSecret*, std::pair<std::string, std::string>>> needles;
  for (const auto& s : secrets) {
    if (s.value.reveal().size() < kMinValueBytes) continue;
    for (auto& f : forms_of(s.value.reveal())) needles.push_back({&s, std::move(f)});
  }
  std::vector<fs::path> files;
  for (const auto& root : roots) {
    std::error_code ec;
    if (fs::is_regular_file(root, ec)) {
      files.push_back(root);
    } else if (fs::is_directory(root, ec)) {
      auto rel = list_files(root);
      if (!rel) return rel.error();
      for (const auto& r : *rel) files.push_back(root / r);
    }
  }
  std::vector<Leak> leaks;
  for (const auto& f : files) {
    std::error_code ec;
    auto size = fs::file_size(f, ec);
    if (ec) return Internal("scanning " + f.string() + ": " + ec.message());
    if (size > kMaxScanBytes)
      return FailedPrecondition("scanning " + f.string() + ": " + std::to_string(size) + " bytes, over the " +
                                std::to_string(kMaxScanBytes) + "-byte limit");
    auto data = read_file(f);
    if (!data) return data.error().context("scanning");
    for (const auto& [secret, form] : needles) {
      if (data->find(form.second) != std::string::npos) {
        bool seen = false;  // one hit per (file, secret): the first form found
        for (const auto& l : leaks) seen |= l.file == f && l.label == secret->label;
        if (!seen) leaks.push_back({f, secret->label, form.first});
      }
    }
  }
  return leaks;
}

}  // namespace villager::secrets
