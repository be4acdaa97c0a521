#include "secrets/secret_file.h"

#include <sodium.h>

#include <charconv>
#include <map>
#include <optional>

#include "base/hash.h"
#include "base/strings.h"

namespace villager::secrets {

namespace {

constexpr std::string_view kMagic = "villager-secrets";
constexpr std::string_view kFormatVersion = "v1";
constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxVersion = 1'000'000'000;

std::string b64(std::string_view raw) {
  return base64_encode(raw);
}

std::optional<std::string> unb64(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0 || static_cast<size_t>(v) > kMaxVersion)
    return std::nullopt;
  return v;
}

// Associated data: everything about the line except the value, so no sealed value can be moved to
// another environment, name, version, time or state without the tag failing.
std::string associated_data(const std::string& env, const SecretLine& l) {
  std::string ad;
  ad.append(kMagic).append(" ").append(kFormatVersion).append("\n");
  ad.append(env).append("\n").append(l.name).append("\n").append(std::to_string(l.version)).append("\n");
  ad.append(l.updated_at).append("\n").append(l.removed ? "rm" : "set");
  return ad;
}

std::string compute_mac(const Key& key, std::string_view body) {
  std::string mac(crypto_auth_hmacsha512256_BYTES, '\0');
  crypto_auth_hmacsha512256(reinterpret_cast<unsigned char*>(mac.data()),
                            reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                            reinterpret_cast<const unsigned char*>(key.mac_key().data()));
  return mac;
}

std::string header_line(const SecretFile& f, const Key& key) {
  return std::string(kMagic) + " " + std::string(kFormatVersion) + " env=" + f.env +
         " key=" + key.fingerprint() + " lines=" + std::to_string(f.lines.size());
}

std::string describe(const SecretLine& l) {
  return "secret " + l.name + " v" + std::to_string(l.version);
}

struct RawLine {
  size_t number;  // 1-based
  std::string_view text;
  bool has_newline;
};

std::vector<RawLine> split_lines(std::string_view text) {
  std::vector<RawLine> out;
  size_t start = 0, n = 1;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      out.push_back({n, text.substr(start), false});
      break;
    }
    out.push_back({n++, text.substr(start, nl - start), true});
    start = nl + 1;
  }
  return out;
}

struct Header {
  std::string env, fingerprint;
  size_t lines = 0;
};

Result<Header> parse_header(std::string_view line) {
  auto f = split(line, ' ');
  if (f.size() < 2 || f[0] != kMagic) return InvalidArgument("line 1: not a villager secrets file");
  if (f[1] != kFormatVersion)
    return InvalidArgument("line 1: format " + f[1] + " is not supported (this villager reads " +
                           std::string(kFormatVersion) + ")");
  if (f.size() != 5 || !starts_with(f[2], "env=") || !starts_with(f[3], "key=") ||
      !starts_with(f[4], "lines="))
    return InvalidArgument("line 1: malformed header (expected 'villager-secrets v1 env=E key=K lines=N')");
  Header h;
  h.env = f[2].substr(4);
  h.fingerprint = f[3].substr(4);
  auto n = f[4] == "lines=0" ? std::optional<int>(0) : parse_int(std::string_view(f[4]).substr(6));
  if (!n) return InvalidArgument("line 1: malformed line count '" + f[4] + "'");
  h.lines = static_cast<size_t>(*n);
  return h;
}

Result<SecretLine> parse_secret_line(const RawLine& raw) {
  std::string where = "line " + std::to_string(raw.number);
  auto f = split(raw.text, ' ');
  std::string name = f.empty() ? "" : f[0];
  if (valid_secret_name(name)) where += " (secret " + name + ")";
  if (!raw.has_newline) return InvalidArgument(where + ": truncated (the file ends inside this line)");
  if (f.size() != 6)
    return InvalidArgument(where + ": malformed: " + std::to_string(f.size()) +
                           " fields, expected 6 (NAME VERSION UPDATED_AT STATE NONCE CIPHERTEXT)");
  if (!valid_secret_name(name)) return InvalidArgument(where + ": malformed secret name");
  SecretLine l;
  l.name = name;
  auto v = parse_int(f[1]);
  if (!v) return InvalidArgument(where + ": malformed version '" + f[1] + "'");
  l.version = *v;
  l.updated_at = f[2];
  if (f[3] != "set" && f[3] != "rm") return InvalidArgument(where + ": state must be set or rm");
  l.removed = f[3] == "rm";
  auto nonce = unb64(f[4]);
  if (!nonce || nonce->size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    return InvalidArgument(where + ": malformed nonce");
  auto ct = unb64(f[5]);
  if (!ct || ct->size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return InvalidArgument(where + ": malformed ciphertext");
  l.nonce = std::move(*nonce);
  l.ciphertext = std::move(*ct);
  return l;
}

}  // namespace

bool valid_secret_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

bool valid_env_name(std::string_view env) {
  if (env.empty() || env.size() > kMaxNameLength) return false;
  for (size_t i = 0; i < env.size(); ++i) {
    char c = env[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
    if (!ok) return false;
  }
  return true;
}

SecretLine seal_line(const Key& key, const std::string& env, std::string name, int version,
                     std::string updated_at, bool removed, std::string_view value) {
  SecretLine l;
  l.name = std::move(name);
  l.version = version;
  l.updated_at = std::move(updated_at);
  l.removed = removed;
  l.nonce.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  randombytes_buf(l.nonce.data(), l.nonce.size());
  std::string ad = associated_data(env, l);
  l.ciphertext.resize(value.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(l.ciphertext.data()), &clen,
                                             reinterpret_cast<const unsigned char*>(value.data()),
                                             value.size(), reinterpret_cast<const unsigned char*>(ad.data()),
                                             ad.size(), nullptr,
                                             reinterpret_cast<const unsigned char*>(l.nonce.data()),
                                             reinterpret_cast<const unsigned char*>(key.enc_key().data()));
  l.ciphertext.resize(clen);
  return l;
}

Result<Secret> open_line(const Key& key, const std::string& env, const SecretLine& l) {
  if (l.ciphertext.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES ||
      l.nonce.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    return InvalidArgument(describe(l) + ": malformed");
  std::string ad = associated_data(env, l);
  std::string plain(l.ciphertext.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long plen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plen, nullptr,
          reinterpret_cast<const unsigned char*>(l.ciphertext.data()), l.ciphertext.size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
          reinterpret_cast<const unsigned char*>(l.nonce.data()),
          reinterpret_cast<const unsigned char*>(key.enc_key().data())) != 0)
    return Unauthenticated(describe(l) + ": does not verify");
  plain.resize(plen);
  Secret s(plain);
  sodium_memzero(plain.data(), plain.size());
  return s;
}

std::string serialize(const SecretFile& f, const Key& key) {
  std::string body = header_line(f, key) + "\n";
  for (const auto& l : f.lines) {
    body += l.name + " " + std::to_string(l.version) + " " + l.updated_at + " " + (l.removed ? "rm" : "set") +
            " " + b64(l.nonce) + " " + b64(l.ciphertext) + "\n";
  }
  return body + "mac " + b64(compute_mac(key, body)) + "\n";
}

namespace {

// Order and continuity: sorted by (name, version), versions of a name 1, 2, ... with no gap. `numbers`
// holds each line's number in the file.
void check_order(const std::vector<SecretLine>& lines, const std::vector<size_t>& numbers,
                 std::vector<std::string>& problems) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    std::string at = "line " + std::to_string(numbers[i]) + " (" + describe(l) + ")";
    if (i == 0 || lines[i - 1].name != l.name) {
      if (i > 0 && lines[i - 1].name > l.name)
        problems.push_back(at + ": out of order after line " + std::to_string(numbers[i - 1]) + " (" +
                           describe(lines[i - 1]) + "): lines were reordered");
      else if (l.version != 1)
        problems.push_back(at + ": the versions before it are missing: a line was deleted or reordered");
    } else if (l.version != lines[i - 1].version + 1) {
      const auto& p = lines[i - 1];
      problems.push_back(at + (l.version <= p.version
                                   ? ": out of order after line " + std::to_string(numbers[i - 1]) + " (" +
                                         describe(p) + "): lines were reordered or copied"
                                   : ": follows v" + std::to_string(p.version) + " on line " +
                                         std::to_string(numbers[i - 1]) + ": a line was deleted"));
    }
  }
}

}  // namespace

Result<OpenedFile> parse_and_verify(std::string_view text, const std::string& env, const Key& key,
                                    const std::string& label) {
  auto fail = [&](const std::string& msg, Code code = Code::kUnauthenticated) -> Error {
    return Error{code, "secrets for " + env + ": " + label + ": " + msg};
  };
  auto raw = split_lines(text);
  if (raw.empty()) return fail("empty file (truncated?)");
  auto header = parse_header(raw[0].text);
  if (!header) return fail(header.error().message, Code::kInvalidArgument);
  if (header->env != env)
    return fail("line 1: this file holds the secrets of environment '" + header->env + "', not '" + env + "'",
                Code::kInvalidArgument);

  // The MAC line is the last line and the only one starting with "mac ".
  size_t mac_index = raw.size();
  for (size_t i = 1; i < raw.size(); ++i)
    if (starts_with(raw[i].text, "mac ")) {
      mac_index = i;
      break;
    }
  std::vector<std::string> problems;
  std::optional<std::string> mac;
  if (mac_index == raw.size()) {
    problems.push_back("truncated: no MAC line at the end (the last line is line " +
                       std::to_string(raw.back().number) + ")");
  } else {
    if (!raw[mac_index].has_newline)
      problems.push_back("line " + std::to_string(raw[mac_index].number) + ": truncated MAC line");
    mac = unb64(raw[mac_index].text.substr(4));
    if (mac_index + 1 < raw.size())
      problems.push_back("line " + std::to_string(raw[mac_index + 1].number) +
                         ": content after the MAC line (appended?)");
  }

  OpenedFile out;
  out.file.env = env;
  std::vector<size_t> numbers;  // line number of each parsed secret line
  for (size_t i = 1; i < mac_index; ++i) {
    auto l = parse_secret_line(raw[i]);
    if (!l) {
      problems.push_back(l.error().message);
      continue;
    }
    out.file.lines.push_back(std::move(*l));
    numbers.push_back(raw[i].number);
  }

  // Each line's seal. None opening at all (with a fingerprint that differs) means the key is wrong.
  std::vector<std::string> seal_problems;
  size_t opened = 0;
  for (size_t i = 0; i < out.file.lines.size(); ++i) {
    auto v = open_line(key, env, out.file.lines[i]);
    if (v) {
      ++opened;
      out.values.push_back(std::move(*v));
    } else {
      out.values.emplace_back();
      seal_problems.push_back("line " + std::to_string(numbers[i]) + " (" + describe(out.file.lines[i]) +
                              "): the value does not verify: the line was edited");
    }
  }
  bool mac_ok = false;
  if (mac && mac_index < raw.size()) {
    size_t body_len = static_cast<size_t>(raw[mac_index].text.data() - text.data());
    mac_ok = constant_time_equal(*mac, compute_mac(key, text.substr(0, body_len)));
  }
  if (!mac_ok && opened == 0 && header->fingerprint != key.fingerprint())
    return Unauthenticated("secrets for " + env + ": wrong key (the file's MAC does not verify with " +
                           key.origin() + ")");
  problems.insert(problems.end(), seal_problems.begin(), seal_problems.end());

  check_order(out.file.lines, numbers, problems);
  if (mac_index < raw.size() && header->lines != out.file.lines.size())
    problems.push_back("the header counts " + std::to_string(header->lines) +
                       " secret lines but the file has " + std::to_string(out.file.lines.size()) +
                       ": a line was deleted or added");
  if (!mac_ok && problems.empty()) {
    if (header->fingerprint != key.fingerprint())
      problems.push_back("line 1: the header was edited (key fingerprint)");
    else
      problems.push_back("the MAC does not verify: the header or MAC line was edited");
  }
  if (!problems.empty()) return fail("tampered or damaged: " + join(problems, "; "));
  return out;
}

std::vector<Secret> open_what_opens(std::string_view text, const std::string& env, const Key& key) {
  std::vector<Secret> out;
  auto raw = split_lines(text);
  for (size_t i = 1; i < raw.size(); ++i) {
    auto l = parse_secret_line(raw[i]);
    if (!l) continue;
    auto v = open_line(key, env, *l);
    if (v) out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace villager::secrets
