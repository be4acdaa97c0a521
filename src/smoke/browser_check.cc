// browser: the upload page run in headless Chromium, as a user would run it. The check fills the page's
// fields, hands its file input a file holding a random marker, submits, and waits for the result link;
// the key is the last '/'-separated part of that link's #fragment. Then it reads every request the page
// sent (Network.requestWillBeSent, bodies included) and fails when the marker (the file left the browser
// unencrypted) or the key (it left the fragment) is in any of them. The HTTP-level checks cannot see
// this: only the page's own JavaScript encrypts. With `download` set it also opens the result link and
// clicks that control, and the file the browser saves must be the one uploaded. Config: [smoke.browser]
// (docs/smoke.md).

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <thread>

#include "base/fs.h"
#include "base/strings.h"
#include "net/url.h"
#include "smoke/chromium.h"
#include "smoke/context.h"
#include "smoke/random.h"
#include "smoke/sgraph_send/profile.h"
#include "smoke/variables.h"

namespace villager::smoke {

namespace {

using json = nlohmann::json;
using Deadline = Chromium::Deadline;

constexpr auto kPoll = std::chrono::milliseconds(100);
constexpr int kMarkerLines = 64;

// Polls `expression` until it yields something other than false/""/null, or the deadline passes. A
// script error counts as "not yet": while a page loads, its execution context comes and goes.
Result<json> wait_for(Chromium& c, const std::string& expression, Deadline deadline) {
  std::string last = "not within the check's timeout";
  for (;;) {
    auto v = c.evaluate(expression, deadline);
    if (v && !(v->is_null() || (v->is_boolean() && !v->get<bool>()) ||
               (v->is_string() && v->get<std::string>().empty())))
      return v;
    if (!v) {
      if (v.error().code == Code::kTimeout || v.error().code == Code::kUnavailable) return v.error();
      last = v.error().message;
    }
    if (std::chrono::steady_clock::now() + kPoll >= deadline) return Timeout(last);
    std::this_thread::sleep_for(kPoll);
  }
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string masked(std::string text, const std::string& key) {
  if (key.empty()) return text;
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 5))
    text.replace(at, key.size(), "<key>");
  return text;
}

struct SentRequest {
  std::string method;
  std::string url;
  std::vector<std::string> header_values;
  std::string body;
};

std::vector<SentRequest> sent_requests(const std::vector<json>& events) {
  std::vector<SentRequest> out;
  for (const auto& e : events) {
    if (e.value("method", "") != "Network.requestWillBeSent") continue;
    const json& req = e["params"]["request"];
    SentRequest s;
    s.method = req.value("method", "GET");
    s.url = req.value("url", "");
    if (req.contains("headers") && req["headers"].is_object())
      for (const auto& [name, value] : req["headers"].items())
        if (value.is_string()) s.header_values.push_back(value.get<std::string>());
    // The raw bytes, when Chromium gives them; postData alone is a lossy text rendering.
    if (req.contains("postDataEntries")) {
      for (const auto& entry : req["postDataEntries"])
        if (entry.contains("bytes"))
          if (auto bytes = base64_decode(entry["bytes"].get<std::string>()); bytes) s.body += *bytes;
    } else {
      s.body = req.value("postData", "");
    }
    out.push_back(std::move(s));
  }
  return out;
}

// One browse: where it goes and how its failures are worded ("browser URL", expected, actual).
struct Browse {
  const config::SmokeBrowserConfig& b;
  Deadline deadline;
  std::string line;          // "browser http://..."
  std::string timeout_text;  // "20s"
  CheckResult& r;
  void fail(std::string expected, std::string actual) const {
    r.failures.push_back({line, std::move(expected), std::move(actual)});
  }
};

// Loads the page, waits for its file input and fills the configured fields. False when it failed.
bool open_page(SmokeContext& ctx, Chromium& c, const std::string& url, const Browse& w) {
  const auto& b = w.b;
  if (auto s = c.call("Network.enable", {{"maxPostDataSize", 64 * 1024 * 1024}}, w.deadline); !s)
    return w.fail("the browser's network events", s.error().message), false;
  auto nav = c.call("Page.navigate", {{"url", url}}, w.deadline);
  if (!nav) return w.fail("the page to load", nav.error().message), false;
  if (nav->contains("errorText"))
    return w.fail("the page to load", (*nav)["errorText"].get<std::string>()), false;
  if (auto ready = wait_for(
          c, "document.readyState === 'complete' && !!document.querySelector(" + quote(b.file_input) + ")",
          w.deadline);
      !ready)
    return w.fail("a page with a file input " + b.file_input,
                  "none after " + w.timeout_text + " (" + ready.error().message + ")"),
           false;
  VariableScope scope{ctx.options.version, [&](const std::string& n) { return ctx.secret(n); }, &ctx.vars};
  for (const auto& [selector, raw] : b.fill) {
    auto value = expand_variables(raw, scope);
    if (!value) return w.fail("a value for " + selector, value.error().message), false;
    auto done = c.evaluate("(() => { const e = document.querySelector(" + quote(selector) +
                               "); if (!e) return false; e.value = " + quote(*value) +
                               "; e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()",
                           w.deadline);
    if (!done) return w.fail("to fill " + selector, done.error().message), false;
    if (!done->is_boolean() || !done->get<bool>())
      return w.fail("an element " + selector + " to fill", "none"), false;
  }
  return true;
}

// Chooses `file` in the page's input, submits, and waits for the result link; its href, or nullopt.
std::optional<std::string> upload(Chromium& c, const fs::path& file, const Browse& w) {
  const auto& b = w.b;
  auto doc = c.call("DOM.getDocument", {{"depth", 0}}, w.deadline);
  if (!doc) return w.fail("the page's document", doc.error().message), std::nullopt;
  auto input = c.call("DOM.querySelector", {{"nodeId", (*doc)["root"]["nodeId"]}, {"selector", b.file_input}},
                      w.deadline);
  if (!input || input->value("nodeId", 0) == 0)
    return w.fail("a file input " + b.file_input, input ? "none" : input.error().message), std::nullopt;
  if (auto s = c.call("DOM.setFileInputFiles", {{"files", {file.string()}}, {"nodeId", (*input)["nodeId"]}},
                      w.deadline);
      !s)
    return w.fail("to choose the file in " + b.file_input, s.error().message), std::nullopt;
  auto clicked = c.evaluate("(() => { const e = document.querySelector(" + quote(b.submit) +
                                "); if (!e) return false; e.click(); return true; })()",
                            w.deadline);
  if (!clicked || !clicked->is_boolean() || !clicked->get<bool>())
    return w.fail("a submit control " + b.submit, clicked ? "none" : clicked.error().message), std::nullopt;
  auto link =
      wait_for(c,
               "(() => { const e = document.querySelector(" + quote(b.result) +
                   "); const h = e && e.getAttribute('href'); return h && h !== '#' ? e.href : ''; })()",
               w.deadline);
  if (!link) {
    std::string says;
    if (auto text = c.evaluate("document.body ? document.body.innerText : ''",
                               std::chrono::steady_clock::now() + std::chrono::seconds(2));
        text && text->is_string())
      says = "; the page says: " + excerpt(text->get<std::string>(), 160);
    return w.fail("a result link " + b.result + " within " + w.timeout_text, "none" + says), std::nullopt;
  }
  return link->is_string() ? link->get<std::string>() : link->dump();
}

// Waits for Chromium to finish a download into `dir` (it writes NAME.crdownload, then renames it).
std::optional<std::string> downloaded(const fs::path& dir, Deadline deadline) {
  std::error_code ec;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() != ".crdownload")
        if (auto bytes = read_file(entry.path()); bytes) return *bytes;
    std::this_thread::sleep_for(kPoll);
  }
  return std::nullopt;
}

// The way back: the result link's page downloads and decrypts; the file must come back whole. A note
// for the result when it did.
std::string check_download(Chromium& c, const std::string& href, const std::string& key,
                           const std::string& content, const Browse& w) {
  const auto& b = w.b;
  const fs::path downloads = c.scratch() / "downloads";
  std::error_code ec;
  fs::create_directories(downloads, ec);
  auto allowed = c.call("Browser.setDownloadBehavior",
                        {{"behavior", "allow"}, {"downloadPath", downloads.string()}}, w.deadline);
  if (!allowed)
    allowed = c.call("Page.setDownloadBehavior",
                     {{"behavior", "allow"}, {"downloadPath", downloads.string()}}, w.deadline);
  auto back = c.call("Page.navigate", {{"url", href}}, w.deadline);
  Result<json> ready = back ? wait_for(c,
                                       "document.readyState === 'complete' && !!document.querySelector(" +
                                           quote(b.download) + ")",
                                       w.deadline)
                            : Result<json>(back.error());
  if (!allowed || !ready) {
    w.fail("the result link's page with a control " + b.download,
           !allowed ? allowed.error().message
                    : "no " + b.download + " on " + excerpt(masked(href, key), 100) + " (" +
                          ready.error().message + ")");
    return "";
  }
  if (auto go =
          c.evaluate("(() => { document.querySelector(" + quote(b.download) + ").click(); return true; })()",
                     w.deadline);
      !go) {
    w.fail("to click " + b.download, go.error().message);
    return "";
  }
  auto got = downloaded(downloads, w.deadline);
  if (!got) {
    w.fail("the download page to give the file back", "no download within " + w.timeout_text);
    return "";
  }
  if (*got != content) {
    w.fail("the download page to give the file back", std::to_string(got->size()) +
                                                          " bytes that differ from the " +
                                                          std::to_string(content.size()) + " uploaded");
    return "";
  }
  return "; the download page decrypted it back byte for byte";
}

// Every request the page sent: none may carry the file's plaintext, nor the key anywhere but the link's
// fragment.
void check_sent(Chromium& c, const std::string& marker, const std::string& key, const std::string& note,
                const Browse& w) {
  CheckResult& r = w.r;
  size_t requests = 0, uploaded = 0;
  for (const auto& s : sent_requests(c.events())) {
    ++requests;
    uploaded += s.body.size();
    const std::string what = s.method + " " + masked(s.url, key);
    if (s.body.find(marker) != std::string::npos)
      r.failures.push_back({what, "a body the browser encrypted", "the file's plaintext"});
    if (key.empty()) continue;
    std::string where;
    if (s.url.find(key) != std::string::npos || percent_decode(s.url).find(key) != std::string::npos)
      where = "URL";
    for (const auto& v : s.header_values)
      if (where.empty() && v.find(key) != std::string::npos) where = "headers";
    if (where.empty() && s.body.find(key) != std::string::npos) where = "body";
    if (!where.empty())
      r.failures.push_back(
          {what, "the key only in the link's #fragment, never sent", "the key in the " + where});
  }
  if (uploaded == 0) w.fail("an upload request from the page", "no request with a body was seen");
  r.notes.push_back(std::to_string(requests) + " requests from the page, " + std::to_string(uploaded) +
                    " body bytes, none with the file's plaintext or the key" + note);
}

// base64(SHA-256(SubjectPublicKeyInfo)) of every certificate in a PEM file, as Chromium's
// --ignore-certificate-errors-spki-list takes them.
Result<std::vector<std::string>> spki_hashes(const std::string& pem_file) {
  BIO* bio = BIO_new_file(pem_file.c_str(), "r");
  if (!bio) return NotFound("cannot read certificate file " + pem_file);
  std::vector<std::string> out;
  while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    unsigned char* der = nullptr;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (len > 0) {
      unsigned char md[SHA256_DIGEST_LENGTH];
      SHA256(der, static_cast<size_t>(len), md);
      out.push_back(base64_encode(std::string_view(reinterpret_cast<const char*>(md), sizeof md)));
    }
    OPENSSL_free(der);
    X509_free(x);
  }
  BIO_free(bio);
  if (out.empty()) return InvalidArgument(pem_file + " holds no PEM certificate");
  return out;
}

// Where the page is opened and the flags that let it load. A candidate slot is browsed at its own
// address, so the page's same-origin requests reach it too. An HTTPS public address keeps its name
// (the certificate's): Chromium resolves it to the connect address, and since it reads no CA file, a
// private CA's certificates and the agent's own are trusted by their public keys.
Result<std::vector<std::string>> browser_flags(const SmokeContext& ctx, const SmokeTarget& target,
                                               std::string& origin) {
  std::vector<std::string> flags;
  const bool tls = starts_with(target.base_url, "https://");
  origin = target.connect_to.empty() || tls ? target.base_url : "http://" + target.connect_to;
  if (!tls) return flags;
  auto url = net::parse_url(target.base_url);
  if (url && !target.connect_to.empty()) {
    std::string host = target.connect_to.substr(0, target.connect_to.rfind(':'));
    flags.push_back("--host-resolver-rules=MAP " + url->host + " " + host);
  }
  if (target.ca_file.empty()) return flags;
  std::vector<std::string> keys;
  std::vector<std::string> files{target.ca_file};
  for (const auto& cert : ctx.config.agent.tls_cert) files.push_back(cert.string());
  for (const auto& f : files) {
    auto h = spki_hashes(f);
    if (!h) return h.error();
    keys.insert(keys.end(), h->begin(), h->end());
  }
  flags.push_back("--ignore-certificate-errors-spki-list=" + join(keys, ","));
  return flags;
}

void drive(SmokeContext& ctx, const SmokeTarget& target, CheckResult& r) {
  const config::SmokeBrowserConfig& b = ctx.config.smoke.browser;
  std::string origin;
  auto flags = browser_flags(ctx, target, origin);
  const std::string url = net::join_url(origin, b.page);
  const Browse w{b, std::chrono::steady_clock::now() + b.timeout, "browser " + url,
                 format_duration(b.timeout), r};
  if (!flags) return w.fail("the certificates to trust", flags.error().message);

  auto browser = Chromium::launch(b.chromium, w.deadline, *flags);
  if (!browser) return w.fail("a headless browser", browser.error().message);
  Chromium& c = **browser;
  if (!open_page(ctx, c, url, w)) return;

  // The file: a random marker on every line, so any part of the plaintext on the wire gives it away.
  const std::string marker = "villager-browser-marker-" + hex_encode(random_bytes(12));
  std::string content;
  for (int i = 0; i < kMarkerLines; ++i) content += marker + " line " + std::to_string(i) + "\n";
  const fs::path file = c.scratch() / "villager-smoke-upload.txt";
  if (auto s = write_file_atomic(file, content); !s.ok())
    return w.fail("a file to upload", s.error().message);
  auto href = upload(c, file, w);
  if (!href) return;
  const auto hash = href->find('#');
  const std::string fragment = hash == std::string::npos ? "" : href->substr(hash + 1);
  const std::string key =
      fragment.substr(fragment.rfind('/') == std::string::npos ? 0 : fragment.rfind('/') + 1);
  if (key.empty())
    w.fail("a key after '#' in the result link",
           "none: the file was not encrypted in the browser (link " + excerpt(*href, 100) + ")");
  std::string note = !b.download.empty() && !key.empty() ? check_download(c, *href, key, content, w) : "";
  check_sent(c, marker, key, note, w);
}

}  // namespace

std::vector<CheckResult> check_browser(SmokeContext& ctx) {
  const config::SmokeBrowserConfig& b = ctx.config.smoke.browser;
  const SmokeTarget* target = nullptr;
  for (const auto& t : ctx.targets) {
    const config::ServiceConfig* svc = ctx.config.service(t.service);
    if (b.service.empty() ? sgraph_send::is_transfers_service(ctx.config, *svc) : t.service == b.service)
      target = &t;
  }
  if (b.page.empty() || !target) {
    CheckResult r{"browser", ""};
    r.skipped = true;
    r.notes.push_back(b.page.empty() ? "not applicable: no [smoke.browser] in the config"
                                     : "not applicable: the browser's service is not among the targets");
    return {r};
  }
  const auto started = ctx.clock.steady_now();
  CheckResult r{"browser", target->service};
  drive(ctx, *target, r);
  if (!r.failures.empty()) r.notes.clear();
  r.duration = ctx.elapsed(started);
  return {r};
}

}  // namespace villager::smoke
