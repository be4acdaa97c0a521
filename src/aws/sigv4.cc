#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "base/hash.h"
#include "base/strings.h"

namespace villager::aws {

namespace {

std::string hmac_sha256(std::string_view key, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

std::string to_upper_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Trims both ends and turns every run of whitespace inside into one space (SigV4's Trimall).
std::string trim_all(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// RFC 3986 5.2.4 dot-segment removal; AWS also wants empty segments ("//") dropped.
std::string normalize_path(const std::string& path) {
  if (path.empty()) return "/";
  std::vector<std::string> out;
  for (const auto& seg : split(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result = path.front() == '/' ? "/" : "";
  result += join(out, "/");
  if (path.back() == '/' && !out.empty()) result += "/";
  return result;
}

std::string canonical_query(const std::string& query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& item : split(query, '&')) {
    auto eq = item.find('=');
    if (eq == std::string::npos)
      pairs.emplace_back(item, "");
    else
      pairs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<std::string> parts;
  for (const auto& [k, v] : pairs) parts.push_back(k + "=" + v);
  return join(parts, "&");
}

// Host as botocore derives it from the URL: the default port of the scheme is dropped.
std::string host_for_signing(const UrlParts& u) {
  if (u.scheme == "http" && ends_with(u.host, ":80")) return u.host.substr(0, u.host.size() - 3);
  if (u.scheme == "https" && ends_with(u.host, ":443")) return u.host.substr(0, u.host.size() - 4);
  return u.host;
}

bool never_signed(const std::string& lname) {
  static const char* kSkip[] = {"connection",
                                "expect",
                                "keep-alive",
                                "proxy-authenticate",
                                "proxy-authorization",
                                "te",
                                "trailer",
                                "transfer-encoding",
                                "upgrade",
                                "user-agent",
                                "x-amzn-trace-id"};
  for (const char* s : kSkip)
    if (lname == s) return true;
  return false;
}

const std::string kAlgorithm = "AWS4-HMAC-SHA256";

std::string scope_string(const SigningScope& scope) {
  return amz_date(scope.time).substr(0, 8) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

// Signed headers: lowercase name -> values in order of appearance.
std::map<std::string, std::vector<std::string>> headers_to_sign(const HttpRequest& req, const UrlParts& u) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, value] : req.headers) {
    auto lname = to_lower(name);
    if (!never_signed(lname)) out[lname].push_back(value);
  }
  if (!out.count("host")) out["host"].push_back(host_for_signing(u));
  return out;
}

std::string signed_header_list(const std::map<std::string, std::vector<std::string>>& h) {
  std::vector<std::string> names;
  for (const auto& [n, _] : h) names.push_back(std::string(trim(n)));
  return join(names, ";");
}

void remove_header(Headers& headers, std::string_view lname) {
  std::erase_if(headers, [&](const auto& h) { return to_lower(h.first) == lname; });
}

const std::string* find_header(const Headers& headers, std::string_view lname) {
  for (const auto& h : headers)
    if (to_lower(h.first) == lname) return &h.second;
  return nullptr;
}

}  // namespace

Result<UrlParts> split_url(std::string_view url) {
  UrlParts u;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return InvalidArgument("URL without a scheme: " + std::string(url));
  u.scheme = to_lower(url.substr(0, scheme_end));
  if (u.scheme != "http" && u.scheme != "https")
    return InvalidArgument("URL scheme must be http or https: " + std::string(url));
  auto rest = url.substr(scheme_end + 3);
  auto host_end = rest.find_first_of("/?#");
  u.host = std::string(rest.substr(0, host_end));
  if (u.host.empty()) return InvalidArgument("URL without a host: " + std::string(url));
  if (host_end == std::string_view::npos) return u;
  rest = rest.substr(host_end);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  auto q = rest.find('?');
  u.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(rest.substr(q + 1));
  return u;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string amz_date(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Result<std::string> canonical_request(const HttpRequest& req, const SigningScope& scope) {
  auto u = split_url(req.url);
  if (!u) return u.error().context("signing request");
  std::string path = scope.s3 ? u->path : uri_encode(normalize_path(u->path), /*keep_slash=*/true);
  auto headers = headers_to_sign(req, *u);
  std::string out = to_upper_ascii(req.method) + "\n" + path + "\n" + canonical_query(u->query) + "\n";
  for (const auto& [name, values] : headers) {
    std::vector<std::string> trimmed;
    for (const auto& v : values) trimmed.push_back(trim_all(v));
    out += name + ":" + join(trimmed, ",") + "\n";
  }
  out += "\n" + signed_header_list(headers) + "\n";
  if (const auto* h = find_header(req.headers, "x-amz-content-sha256"))
    out += *h;
  else
    out += sha256_hex(req.body);
  return out;
}

std::string string_to_sign(std::string_view canonical, const SigningScope& scope) {
  return kAlgorithm + "\n" + amz_date(scope.time) + "\n" + scope_string(scope) + "\n" + sha256_hex(canonical);
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  auto k_date = hmac_sha256("AWS4" + std::string(secret), date);
  auto k_region = hmac_sha256(k_date, region);
  auto k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

Status sign_request(HttpRequest& req, const Credentials& creds, const SigningScope& scope) {
  if (creds.access_key_id.empty() || creds.secret_access_key.empty())
    return Unauthenticated("no AWS credentials to sign the request with");
  for (const char* h : {"authorization", "x-amz-date", "x-amz-security-token"}) remove_header(req.headers, h);
  req.headers.emplace_back("X-Amz-Date", amz_date(scope.time));
  if (!creds.session_token.empty())
    req.headers.emplace_back("X-Amz-Security-Token", creds.session_token.reveal());
  if (scope.s3) {
    remove_header(req.headers, "x-amz-content-sha256");
    req.headers.emplace_back("X-Amz-Content-SHA256", sha256_hex(req.body));
  }
  auto canonical = canonical_request(req, scope);
  if (!canonical) return canonical.error();
  auto sts = string_to_sign(*canonical, scope);
  auto key = signing_key(creds.secret_access_key.reveal(), amz_date(scope.time).substr(0, 8), scope.region,
                         scope.service);
  auto signature = hex_encode(hmac_sha256(key, sts));
  auto u = split_url(req.url);
  req.headers.emplace_back("Authorization",
                           kAlgorithm + " Credential=" + creds.access_key_id + "/" + scope_string(scope) +
                               ", SignedHeaders=" + signed_header_list(headers_to_sign(req, *u)) +
                               ", Signature=" + signature);
  return Ok();
}

}  // namespace villager::aws
