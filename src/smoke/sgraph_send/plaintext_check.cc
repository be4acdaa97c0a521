// plaintext: villager acts as the browser client of the transfers service (encrypts a unique marker
// and file name with a fresh AES-256-GCM key, uploads, completes, downloads and compares the
// ciphertext), then scans storage and logs for every canary and checks meta.json's fields.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/redact.h"
#include "base/strings.h"
#include "smoke/canary_scan.h"
#include "smoke/context.h"
#include "smoke/sgraph_send/envelope.h"
#include "smoke/sgraph_send/profile.h"

namespace villager::smoke::sgraph_send {

namespace {

// SGraph Send's meta.json fields (DESIGN.md, reference), [smoke.sgraph_send] meta_fields' default, plus the
// reference service's completion fields.
const std::vector<std::string> kDefaultMetaFields = {
    "transfer_id",    "status",         "file_size_bytes", "content_type_hint", "created_at",
    "completed_at",   "sender_ip_hash", "ip_hash",         "download_count",    "downloads",
    "max_downloads",  "auto_delete",    "expires_at",      "delete_auth_hash",  "events",
    "payload_sha256", "payload_size",   "sha256",          "size_bytes",        "updated_at"};

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Every key naming an IP hash, at any depth (events carry their own).
void check_ip_hashes(const nlohmann::json& j, const std::string& where, const std::string& path,
                     CheckResult& r, int& found) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string k = to_lower(it.key());
      std::string p = path.empty() ? it.key() : path + "." + it.key();
      if (k.find("ip") != std::string::npos && k.find("hash") != std::string::npos) {
        ++found;
        if (!it->is_string() || !is_hex64(it->get<std::string>()))
          r.failures.push_back({where, p + " = 64 hex characters (SHA-256)",
                                it->is_string()
                                    ? excerpt(mask_value(it->get<std::string>())) + " (" +
                                          std::to_string(it->get<std::string>().size()) + " chars)"
                                    : std::string(it->type_name())});
      } else if (k == "ip" || k == "client_ip" || k == "raw_ip" || k == "sender_ip") {
        r.failures.push_back({where, "no raw IP field", p + " present"});
      }
      check_ip_hashes(*it, where, p, r, found);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      check_ip_hashes(j[i], where, path + "." + std::to_string(i), r, found);
  }
}

// Log events written before the check started still count, within this margin: the service's clock
// and CloudWatch's timestamps need not agree with ours to the second.
constexpr std::chrono::milliseconds kRemoteLogMargin{5 * 60 * 1000};

void check_meta_text(const std::string& where, const std::string& text,
                     const std::vector<std::string>& allowed, CheckResult& r) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    r.failures.push_back({where, "a JSON object", excerpt(text)});
    return;
  }
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      r.failures.push_back({where, "only fields " + join(allowed, ", "), "field '" + it.key() + "'"});
  int found = 0;
  check_ip_hashes(j, where, "", r, found);
  if (found == 0) r.failures.push_back({where, "an IP hash field (SHA-256 of the client IP)", "none"});
}

void check_meta(const std::filesystem::path& file, const std::vector<std::string>& allowed, CheckResult& r) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check_meta_text(file.string(), text, allowed, r);
}

// Scans the remote storage and logs (S3 objects, log streams) and checks this transfer's meta.json
// among them; returns whether that meta.json was found.
bool scan_remote(const RemoteSources& remote, int64_t since_ms, const std::vector<Canary>& canaries,
                 const std::string& id, const std::vector<std::string>& meta_fields, CheckResult& r) {
  auto sources = remote(since_ms);
  if (!sources) {
    r.failures.push_back(
        {"reading remote storage and logs", "every object and log event readable", sources.error().message});
    return false;
  }
  auto scan = scan_sources_for_canaries(*sources, canaries);
  for (const auto& h : scan.hits)
    r.failures.push_back(
        {h.file + ":" + std::to_string(h.offset), "no " + h.canary,
         h.canary + " (" + h.form + ") " + h.masked + " at byte " + std::to_string(h.offset)});
  for (const auto& f : scan.truncated) r.notes.push_back("scanned only the first 64 MiB of " + f);
  r.notes.push_back("scanned " + std::to_string(scan.files) + " remote objects and log streams, " +
                    std::to_string(scan.bytes) + " bytes");
  if (id.empty()) return false;
  const std::string meta_suffix = "/" + id + "/meta.json";
  for (const auto& src : *sources)
    if (ends_with(src.name, meta_suffix)) {
      check_meta_text(src.name, src.bytes, meta_fields, r);
      return true;
    }
  return false;
}

// meta.json of this transfer, wherever the storage roots keep it (transfers/{id[:2]}/{id}/meta.json).
std::optional<std::filesystem::path> find_meta(const std::vector<std::filesystem::path>& roots,
                                               const std::string& id) {
  for (const auto& root : roots) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) continue;
    for (auto it = std::filesystem::recursive_directory_iterator(
             root, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().filename() == "meta.json" && it->path().parent_path().filename() == id)
        return it->path();
    }
  }
  return std::nullopt;
}

// The values a run plants and then looks for where they must never appear: unique per run so an old
// leak is not mistaken for a new one, and vice versa.
struct RunCanaries {
  std::string marker;
  std::string file_name;
  std::string key;  // the AES key the client keeps
  std::string spoofed_ip;
};

RunCanaries new_run_canaries() {
  RunCanaries c;
  const std::string run = hex_encode(random_bytes(8));
  c.marker = "villager-marker-" + run + " plaintext that must never be stored";
  c.file_name = "villager-secret-name-" + run + ".txt";
  c.key = random_bytes(kAesKeyBytes);
  register_secret(c.key);
  c.spoofed_ip = "203.0.113." + std::to_string(1 + static_cast<unsigned char>(random_bytes(1)[0]) % 254);
  return c;
}

// Creates, uploads, completes and downloads one transfer of `payload`, as a client would; the
// transfer's id, or "" when a step failed (recorded in r).
std::string round_trip(SmokeContext& ctx, const SmokeTarget& t, const std::string& token,
                       const std::string& payload, const std::string& spoofed_ip, CheckResult& r) {
  const auto& sc = ctx.config.smoke.sgraph_send;
  const std::string base = ctx.paths().transfers_path;
  auto call = [&](const std::string& method, const std::string& path, const std::string& body,
                  const std::string& content_type) -> std::optional<net::HttpResponse> {
    net::HttpRequest req;
    req.method = method;
    req.headers = {{sc.access_token_header, token}, {"X-Forwarded-For", spoofed_ip}};
    if (!content_type.empty()) req.headers.push_back({"content-type", content_type});
    req.body = body;
    std::string line = method + " " + net::join_url(t.base_url, path);
    auto resp = ctx.send(t, req, path);
    if (!resp) {
      r.failures.push_back({line, "a 2xx answer", resp.error().message});
      return std::nullopt;
    }
    if (resp->status == 404 && path == base + "/create") {
      r.failures.push_back(missing_path(ctx, line, "transfers_path"));
      return std::nullopt;
    }
    if (!is_2xx(resp->status)) {
      r.failures.push_back({line, "a 2xx answer", describe(*resp)});
      return std::nullopt;
    }
    return std::move(*resp);
  };

  std::string id;
  nlohmann::json create_body = {{"file_size_bytes", payload.size()},
                                {"content_type_hint", "application/octet-stream"}};
  if (auto c = call("POST", base + "/create", create_body.dump(), "application/json")) {
    auto j = nlohmann::json::parse(c->body, nullptr, false);
    if (j.is_object() && j.contains("transfer_id") && j["transfer_id"].is_string())
      id = j["transfer_id"].get<std::string>();
    else
      r.failures.push_back(
          {"POST " + net::join_url(t.base_url, base + "/create"), "JSON with transfer_id", excerpt(c->body)});
  }
  if (!id.empty() && call("POST", base + "/upload/" + id, payload, "application/octet-stream") &&
      call("POST", base + "/complete/" + id, "", "")) {
    if (auto d = call("GET", base + "/download/" + id, "", "")) {
      if (d->body != payload)
        r.failures.push_back(
            {"GET " + net::join_url(t.base_url, base + "/download/" + id),
             "the uploaded ciphertext, byte-identical (" + std::to_string(payload.size()) + " bytes)",
             std::to_string(d->body.size()) + " bytes, " +
                 (d->body.size() == payload.size() ? "different content" : "different length")});
    }
  }
  return id;
}

void merge_into(ScanSummary& into, ScanSummary more) {
  into.hits.insert(into.hits.end(), more.hits.begin(), more.hits.end());
  into.files += more.files;
  into.bytes += more.bytes;
  into.truncated.insert(into.truncated.end(), more.truncated.begin(), more.truncated.end());
}

// Storage and logs on this host ([smoke] storage/logs and the caller's extra paths): what the server
// wrote must hold none of the canaries.
void scan_local(SmokeContext& ctx, const std::vector<Canary>& canaries, CheckResult& r) {
  const auto& sc = ctx.config.smoke;
  std::vector<std::filesystem::path> roots = ctx.configured(sc.storage);
  auto logs = ctx.configured(sc.logs);
  roots.insert(roots.end(), logs.begin(), logs.end());
  size_t configured_roots = roots.size();
  roots.insert(roots.end(), ctx.options.extra_scan_paths.begin(), ctx.options.extra_scan_paths.end());
  auto scan = scan_for_canaries(roots, canaries);
  if (!scan) {
    r.failures.push_back({"scanning storage and logs", "readable files", scan.error().message});
    return;
  }
  if (ctx.options.extra_scan_sources) {
    auto sources = ctx.options.extra_scan_sources();
    if (!sources) {
      r.failures.push_back({"scanning villager's state", "readable", sources.error().message});
      return;
    }
    merge_into(*scan, scan_sources_for_canaries(*sources, canaries));
  }
  for (const auto& h : scan->hits)
    r.failures.push_back(
        {h.file + ":" + std::to_string(h.offset), "no " + h.canary,
         h.canary + " (" + h.form + ") " + h.masked + " at byte " + std::to_string(h.offset)});
  for (const auto& m : scan->missing) {
    bool is_configured = std::find(roots.begin(), roots.begin() + configured_roots,
                                   std::filesystem::path(m)) != roots.begin() + configured_roots;
    if (is_configured)
      r.failures.push_back({m, "a file or folder to scan ([smoke] storage/logs)", "does not exist"});
    else
      r.notes.push_back("not found, not scanned: " + m);
  }
  for (const auto& f : scan->truncated) r.notes.push_back("scanned only the first 64 MiB of " + f);
  if (roots.empty() && !ctx.options.remote_sources)
    r.notes.push_back("storage and logs not scanned: no [smoke] storage/logs for this environment");
  else
    r.notes.push_back("scanned " + std::to_string(scan->files) + " files, " + std::to_string(scan->bytes) +
                      " bytes for " + std::to_string(canaries.size()) + " canaries");
}

// The transfer's meta.json holds only the allowed fields: read remotely (S3) when the environment has
// remote sources, else from the scanned storage.
void check_transfer_meta(SmokeContext& ctx, int64_t since_ms, const std::vector<Canary>& canaries,
                         const std::string& id, CheckResult& r) {
  const auto& sc = ctx.config.smoke;
  const auto& fields = sc.sgraph_send.meta_fields;
  const auto& meta_fields = fields.empty() ? kDefaultMetaFields : fields;
  bool remote_meta = false;
  if (ctx.options.remote_sources)
    remote_meta = scan_remote(ctx.options.remote_sources, since_ms, canaries, id, meta_fields, r);
  if (id.empty() || remote_meta) return;
  std::vector<std::filesystem::path> meta_roots = ctx.configured(sc.storage);
  meta_roots.insert(meta_roots.end(), ctx.options.extra_scan_paths.begin(),
                    ctx.options.extra_scan_paths.end());
  if (auto meta = find_meta(meta_roots, id))
    check_meta(*meta, meta_fields, r);
  else
    r.notes.push_back("meta.json of transfer " + id +
                      " not found under the scanned storage: fields not checked");
}

// The whole check against one transfers service.
CheckResult check_one(SmokeContext& ctx, const SmokeTarget& t) {
  const auto& sc = ctx.config.smoke.sgraph_send;
  const auto started = ctx.clock.steady_now();
  const int64_t since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               ctx.clock.now().time_since_epoch() - kRemoteLogMargin)
                               .count();
  CheckResult r{"plaintext", t.service};
  auto token = ctx.secret(sc.access_token_secret);
  if (!token) {
    r.failures.push_back({"secret " + sc.access_token_secret,
                          "a value (environment's secrets or the process environment)",
                          "not available: no transfer can be created"});
    r.duration = ctx.elapsed(started);
    return r;
  }
  RunCanaries run = new_run_canaries();
  auto payload =
      encrypt_payload(run.key, random_bytes(kGcmIvBytes), sgmeta_envelope(run.file_name, run.marker));
  if (!payload) {
    r.failures.push_back({"encrypting the marker", "AES-256-GCM ciphertext", payload.error().message});
    r.duration = ctx.elapsed(started);
    return r;
  }
  r.notes.push_back("transfers path " + ctx.paths().transfers_path + ": " + ctx.paths().explanation);
  std::string id = round_trip(ctx, t, *token, *payload, run.spoofed_ip, r);

  std::vector<Canary> canaries = {{"marker", run.marker},
                                  {"file name", run.file_name},
                                  {"AES key", run.key},
                                  {"access token", *token},
                                  {"spoofed client IP", run.spoofed_ip}};
  for (const auto& s : ctx.config.services)
    if (is_protected_service(s) && !s.auth_secret.empty())
      if (auto admin = ctx.secret(s.auth_secret)) canaries.push_back({"admin key (" + s.name + ")", *admin});
  scan_local(ctx, canaries, r);
  check_transfer_meta(ctx, since_ms, canaries, id, r);
  r.duration = ctx.elapsed(started);
  return r;
}

}  // namespace

std::vector<CheckResult> check_plaintext(SmokeContext& ctx) {
  std::vector<CheckResult> out;
  for (const auto& t : ctx.targets)
    if (is_transfers_service(ctx.config, *ctx.config.service(t.service))) out.push_back(check_one(ctx, t));
  if (out.empty()) {
    CheckResult r{"plaintext", ""};
    r.skipped = true;
    r.notes.push_back(
        ctx.config.profile == config::Profile::kSgraphSend
            ? "not applicable: no service lists the access token secret " +
                  ctx.config.smoke.sgraph_send.access_token_secret
            : std::string("not applicable: the transfer round trip is profile \"sgraph-send\"'s"));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace villager::smoke::sgraph_send
