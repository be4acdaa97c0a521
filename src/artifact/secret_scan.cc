#include "artifact/secret_scan.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"

namespace villager::artifact {

namespace {

constexpr size_t kMaxValueLength = 256;
// How far before a 40-character value a name like aws_secret_access_key may sit (same line).
constexpr size_t kAwsSecretNameWindow = 64;
constexpr size_t kPemHeaderMaxLength = 64;
constexpr size_t kGithubClassicMin = 36;
constexpr size_t kGithubPatMin = 22;
constexpr size_t kSlackTokenMin = 10;
constexpr size_t kSlackWebhookMin = 20;

constexpr std::array<std::string_view, 11> kAwsKeyPrefixes = {"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA",
                                                              "ANPA", "ANVA", "APKA", "ABIA", "ACCA"};
constexpr std::array<std::string_view, 10> kSecretNames = {"password",   "passwd",   "secret",  "token",
                                                           "api_key",    "apikey",   "api-key", "access_key",
                                                           "access-key", "accesskey"};
constexpr std::array<std::string_view, 12> kPlaceholders = {
    "changeme", "change_me", "change-me", "example", "placeholder", "dummy",
    "redacted", "xxxx",      "****",      "your_",   "your-",       "replace"};

bool is_upper_digit(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_upper_digit(c) || (c >= 'a' && c <= 'z');
}
bool is_b64(char c) {
  return is_alnum(c) || c == '+' || c == '/';
}
bool is_ident(char c) {
  return is_alnum(c) || c == '_' || c == '-' || c == '.';
}
// strchr would also match the terminating NUL, which binary content does contain.
bool is_one_of(char c, const char* set) {
  return c != '\0' && std::strchr(set, c) != nullptr;
}
bool is_bare_value(char c) {
  return is_alnum(c) || is_one_of(c, "_-+/=.!@#$%^&*~");
}

struct Raw {
  size_t offset;  // where the value starts
  size_t length;
  std::string rule;
  std::string value;  // what the fingerprint and mask are made from
};

size_t run_end(std::string_view s, size_t i, bool (*pred)(char)) {
  while (i < s.size() && pred(s[i])) ++i;
  return i;
}

void find_aws_key_ids(std::string_view s, std::vector<Raw>* out) {
  for (size_t i = 0; i + 20 <= s.size(); ++i) {
    if (s[i] != 'A') continue;
    if (i > 0 && is_alnum(s[i - 1])) continue;
    std::string_view prefix = s.substr(i, 4);
    if (std::find(kAwsKeyPrefixes.begin(), kAwsKeyPrefixes.end(), prefix) == kAwsKeyPrefixes.end()) continue;
    if (run_end(s, i + 4, is_upper_digit) != i + 20) continue;
    if (i + 20 < s.size() && is_alnum(s[i + 20])) continue;
    std::string value(s.substr(i, 20));
    if (value.find("EXAMPLE") != std::string::npos) continue;  // AWS documentation's sample keys
    out->push_back({i, 20, "aws-access-key-id", value});
  }
}

void find_aws_secrets(std::string_view s, const std::vector<Raw>& key_ids, std::vector<Raw>* out) {
  for (size_t i = 0; i < s.size();) {
    if (!is_b64(s[i])) {
      ++i;
      continue;
    }
    size_t end = run_end(s, i, is_b64);
    // A 40-character run followed by '=' is padded base64 data, not a key.
    bool bounded = end == s.size() || s[end] != '=';
    if (end - i == 40 && bounded) {
      std::string_view v = s.substr(i, 40);
      bool upper = false, lower = false, digit = false;
      for (char c : v) {
        upper |= c >= 'A' && c <= 'Z';
        lower |= c >= 'a' && c <= 'z';
        digit |= c >= '0' && c <= '9';
      }
      bool near_key = false;
      for (const auto& k : key_ids) {
        size_t d = k.offset > i ? k.offset - i : i - k.offset;
        if (d <= kAwsSecretNearBytes) near_key = true;
      }
      size_t from = i > kAwsSecretNameWindow ? i - kAwsSecretNameWindow : 0;
      std::string before = to_lower(s.substr(from, i - from));
      size_t nl = before.rfind('\n');
      if (nl != std::string::npos) before = before.substr(nl + 1);
      bool named = before.find("secret_access_key") != std::string::npos ||
                   before.find("secretaccesskey") != std::string::npos ||
                   before.find("secret-access-key") != std::string::npos ||
                   before.find("aws_secret") != std::string::npos;
      if (upper && lower && digit && (near_key || named) && shannon_entropy(v) >= kAwsSecretMinEntropy &&
          to_lower(v).find("example") == std::string::npos)
        out->push_back({i, 40, "aws-secret-access-key", std::string(v)});
    }
    i = end;
  }
}

void find_private_keys(std::string_view s, std::vector<Raw>* out) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kKind = "PRIVATE KEY";
  constexpr std::string_view kDashes = "-----";
  for (size_t i = s.find(kBegin); i != std::string_view::npos; i = s.find(kBegin, i + 1)) {
    // "-----BEGIN [RSA |EC |OPENSSH |ENCRYPTED ...]PRIVATE KEY-----"
    size_t j = i + kBegin.size();
    while (j < s.size() && j - i < kPemHeaderMaxLength && (is_upper_digit(s[j]) || s[j] == ' ')) ++j;
    if (!ends_with(s.substr(i, j - i), kKind) || s.substr(j, kDashes.size()) != kDashes) continue;
    size_t header_end = j + kDashes.size();
    // Fingerprint the header plus the start of the body, so two different keys are told apart.
    size_t body = header_end;
    while (body < s.size() && (s[body] == '\r' || s[body] == '\n' || s[body] == ' ')) ++body;
    size_t body_end = std::min(run_end(s, body, is_b64), body + 64);
    std::string value =
        std::string(s.substr(i, header_end - i)) + std::string(s.substr(body, body_end - body));
    out->push_back({i, header_end - i, "private-key", value});
  }
}

void find_github_tokens(std::string_view s, std::vector<Raw>* out) {
  for (size_t i = s.find("gh"); i != std::string_view::npos; i = s.find("gh", i + 1)) {
    if (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '_')) continue;
    if (i + 4 > s.size() || !is_one_of(s[i + 2], "pousr") || s[i + 3] != '_') continue;
    size_t end = run_end(s, i + 4, is_alnum);
    if (end - (i + 4) >= kGithubClassicMin)
      out->push_back({i, end - i, "github-token", std::string(s.substr(i, end - i))});
  }
  constexpr std::string_view kPat = "github_pat_";
  for (size_t i = s.find(kPat); i != std::string_view::npos; i = s.find(kPat, i + 1)) {
    if (i > 0 && is_alnum(s[i - 1])) continue;
    size_t end = run_end(s, i + kPat.size(), [](char c) { return is_alnum(c) || c == '_'; });
    if (end - (i + kPat.size()) >= kGithubPatMin)
      out->push_back({i, end - i, "github-token", std::string(s.substr(i, end - i))});
  }
}

void find_slack(std::string_view s, std::vector<Raw>* out) {
  for (size_t i = s.find("xox"); i != std::string_view::npos; i = s.find("xox", i + 1)) {
    if (i > 0 && is_alnum(s[i - 1])) continue;
    if (i + 5 > s.size() || !is_one_of(s[i + 3], "abprs") || s[i + 4] != '-') continue;
    size_t end = run_end(s, i + 5, [](char c) { return is_alnum(c) || c == '-'; });
    if (end - (i + 5) >= kSlackTokenMin)
      out->push_back({i, end - i, "slack-token", std::string(s.substr(i, end - i))});
  }
  for (std::string_view host :
       {std::string_view("hooks.slack.com/services/"), std::string_view("hooks.slack.com/workflows/")}) {
    for (size_t i = s.find(host); i != std::string_view::npos; i = s.find(host, i + 1)) {
      size_t start = i + host.size();
      size_t end = run_end(s, start, [](char c) { return is_alnum(c) || c == '/'; });
      if (end - start >= kSlackWebhookMin)
        out->push_back({start, end - start, "slack-webhook", std::string(s.substr(start, end - start))});
    }
  }
}

bool is_placeholder(std::string_view v) {
  if (v.find("${") != std::string_view::npos || v.find("{{") != std::string_view::npos ||
      v.find("%(") != std::string_view::npos)
    return true;
  if (v.front() == '<' && v.back() == '>') return true;
  std::string lower = to_lower(v);
  for (auto p : kPlaceholders)
    if (lower.find(p) != std::string::npos) return true;
  return false;
}

// A value with no digit made only of letters and _ - . / $ is a name (an env var, a header, a JS member
// expression like e.accessToken), not a secret. So is a plain number.
bool looks_like_name_or_number(std::string_view v) {
  bool digit = false, letter = false, other = false;
  for (char c : v) {
    if (c >= '0' && c <= '9')
      digit = true;
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      letter = true;
    else if (!is_one_of(c, "_-./$"))
      other = true;
  }
  if (!digit && !other) return true;
  if (digit && !letter && !other) return true;
  return false;
}

void find_generic(std::string_view s, std::vector<Raw>* out) {
  for (size_t i = 0; i < s.size();) {
    if (!is_ident(s[i])) {
      ++i;
      continue;
    }
    size_t end = run_end(s, i, is_ident);
    std::string_view ident = s.substr(i, end - i);
    i = end;
    if (ident.size() < 5) continue;
    std::string lower = to_lower(ident);
    bool named = false;
    for (auto n : kSecretNames)
      if (lower.find(n) != std::string::npos) named = true;
    if (!named) continue;
    size_t j = end;
    if (j < s.size() && (s[j] == '"' || s[j] == '\'' || s[j] == '`')) ++j;  // a quoted key: "password": ...
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (j >= s.size()) continue;
    if (s[j] == ':') {
      if (j + 1 < s.size() && s[j + 1] == ':') continue;  // C++ scope, not an assignment
      ++j;
      if (j < s.size() && s[j] == '=') ++j;
    } else if (s[j] == '=') {
      if (j + 1 < s.size() && (s[j + 1] == '=' || s[j + 1] == '>')) continue;  // comparison or arrow
      ++j;
    } else {
      continue;
    }
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (j >= s.size()) continue;
    size_t vstart = j, vend = j;
    bool quoted = false;
    char q = s[j];
    if (q == '"' || q == '\'' || q == '`') {
      quoted = true;
      vstart = j + 1;
      vend = vstart;
      while (vend < s.size() && s[vend] != q && s[vend] != '\n' && vend - vstart <= kMaxValueLength) ++vend;
      if (vend >= s.size() || s[vend] != q) continue;
    } else {
      vend = run_end(s, j, is_bare_value);
    }
    std::string_view v = s.substr(vstart, vend - vstart);
    if (v.size() < kGenericSecretMinLength || v.size() > kMaxValueLength) continue;
    if (quoted && v.find_first_of(" \t\\") != std::string_view::npos) continue;  // prose or an escape
    if (is_placeholder(v) || looks_like_name_or_number(v)) continue;
    if (shannon_entropy(v) < kGenericSecretMinEntropy) continue;
    out->push_back({vstart, v.size(), "generic-secret", std::string(v)});
  }
}

}  // namespace

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<size_t, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0;
  for (size_t n : counts) {
    if (n == 0) continue;
    double p = static_cast<double>(n) / static_cast<double>(s.size());
    h -= p * std::log2(p);
  }
  return h;
}

std::string mask_value(std::string_view value) {
  return std::string(value.substr(0, 4)) + "****";
}

std::string finding_fingerprint(std::string_view rule, std::string_view value) {
  return sha256_hex(std::string(rule) + ":" + std::string(value));
}

std::vector<Finding> scan_content(std::string_view file, std::string_view s, size_t* allowed) {
  std::vector<Raw> raw;
  std::vector<Raw> key_ids;
  find_aws_key_ids(s, &key_ids);
  raw = key_ids;
  find_aws_secrets(s, key_ids, &raw);
  find_private_keys(s, &raw);
  find_github_tokens(s, &raw);
  find_slack(s, &raw);
  std::vector<Raw> generic;
  find_generic(s, &generic);
  // A value a specific rule already names is not reported again as generic-secret.
  for (auto& g : generic) {
    bool overlaps = false;
    for (const auto& r : raw)
      if (g.offset < r.offset + r.length && r.offset < g.offset + g.length) overlaps = true;
    if (!overlaps) raw.push_back(std::move(g));
  }
  std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) { return a.offset < b.offset; });

  std::vector<size_t> newlines;
  if (!raw.empty())
    for (size_t i = s.find('\n'); i != std::string_view::npos; i = s.find('\n', i + 1)) newlines.push_back(i);
  std::vector<Finding> out;
  for (const auto& r : raw) {
    size_t line_idx =
        static_cast<size_t>(std::lower_bound(newlines.begin(), newlines.end(), r.offset) - newlines.begin());
    size_t line_start = line_idx == 0 ? 0 : newlines[line_idx - 1] + 1;
    size_t line_end = line_idx < newlines.size() ? newlines[line_idx] : s.size();
    if (s.substr(line_start, line_end - line_start).find(kInlineAllowMarker) != std::string_view::npos) {
      if (allowed) ++*allowed;
      continue;
    }
    out.push_back({std::string(file), line_idx + 1, r.offset - line_start + 1, r.rule, mask_value(r.value),
                   finding_fingerprint(r.rule, r.value)});
  }
  return out;
}

Result<Allowlist> Allowlist::parse(std::string_view text, const std::string& source) {
  Allowlist a;
  size_t lineno = 0;
  for (const auto& raw_line : split(text, '\n')) {
    ++lineno;
    std::string_view line = raw_line;
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    bool hex = line.size() == 64 && std::all_of(line.begin(), line.end(), [](char c) {
                 return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
               });
    if (hex) {
      a.fingerprints_.emplace_back(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == line.size())
      return InvalidArgument(source + ":" + std::to_string(lineno) +
                             ": expected 'rule:path-glob' or a 64-hex fingerprint, got '" +
                             std::string(line) + "'");
    a.rules_.emplace_back(std::string(trim(line.substr(0, colon))),
                          std::string(trim(line.substr(colon + 1))));
  }
  return a;
}

Result<Allowlist> Allowlist::load(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return text.error().context("reading allowlist");
  return parse(*text, path.string());
}

bool Allowlist::allows(const Finding& f) const {
  if (std::find(fingerprints_.begin(), fingerprints_.end(), f.fingerprint) != fingerprints_.end())
    return true;
  for (const auto& [rule, glob] : rules_)
    if ((rule == "*" || rule == f.rule) && ::fnmatch(glob.c_str(), f.file.c_str(), 0) == 0) return true;
  return false;
}

Result<ScanReport> scan_tree(const std::filesystem::path& dir, const ScanOptions& opts) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return NotFound("scanning " + dir.string() + ": not a directory");
  Allowlist allow;
  std::filesystem::path allow_path = opts.allowlist;
  if (allow_path.empty() && opts.default_allowlist && std::filesystem::exists(dir / kAllowlistFileName, ec))
    allow_path = dir / kAllowlistFileName;
  if (!allow_path.empty()) {
    auto a = Allowlist::load(allow_path);
    if (!a) return a.error().context("scanning " + dir.string());
    allow = std::move(*a);
  }

  std::vector<std::string> files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = std::filesystem::relative(it->path(), dir).generic_string();
    std::error_code e2;
    if (it->is_symlink(e2)) {
      files.push_back("\x01" + rel);  // noted below
      continue;
    }
    if (it->is_directory(e2)) {
      if (it->path().filename() == ".git") it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(e2) && rel != kAllowlistFileName) files.push_back(rel);
  }
  if (ec) return Internal("scanning " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());

  ScanReport report;
  for (const auto& rel : files) {
    if (rel[0] == '\x01') {
      report.notes.push_back(opts.path_prefix + rel.substr(1) + ": symlink, not followed");
      continue;
    }
    auto path = dir / rel;
    uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return Internal("scanning " + path.string() + ": " + ec.message());
    if (size > opts.max_file_bytes) {
      report.notes.push_back(opts.path_prefix + rel + ": skipped, " + std::to_string(size) +
                             " bytes > limit of " + std::to_string(opts.max_file_bytes));
      continue;
    }
    auto content = read_file(path);
    if (!content) return content.error().context("scanning");
    ++report.files_scanned;
    for (auto& f : scan_content(opts.path_prefix + rel, *content, &report.allowed)) {
      if (allow.allows(f)) {
        ++report.allowed;
        continue;
      }
      report.findings.push_back(std::move(f));
    }
  }
  return report;
}

Result<std::vector<Finding>> scan_directory(const std::filesystem::path& dir, const ScanOptions& opts) {
  auto r = scan_tree(dir, opts);
  if (!r) return r.error();
  return std::move(r->findings);
}

}  // namespace villager::artifact
