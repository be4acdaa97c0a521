// browser: a page run in headless Chromium, as a user would run it, by declared steps
// ([[smoke.browser.step]]: fill, upload, click, wait_for, download, never_sent), interpreted in order as
// declared_check.cc interprets [[smoke.check]]; the sgraph-send profile supplies its upload flow as the
// default steps (sgraph_send/upload_flow.cc). An upload hands a file input a file holding a random
// marker; wait_for can capture the result link's href; download opens it, clicks a control, and the file
// the browser saves must be the one uploaded. Then every request the page sent
// (Network.requestWillBeSent, bodies included) is read, and one carrying what a never_sent step named
// (the marker: the file left the browser unencrypted; the link's #fragment key; a literal) fails the
// check. The HTTP-level checks cannot see this: only the page's own JavaScript encrypts. Config:
// [smoke.browser] (docs/smoke.md).

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
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

std::string masked(std::string text, const std::string& key, const std::string& as = "<key>") {
  if (key.empty()) return text;
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + as.size()))
    text.replace(at, key.size(), as);
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

// One browse: the page, the steps' shared state, and how failures are worded ("browser URL", expected,
// actual).
struct Browse {
  SmokeContext& ctx;
  Chromium& c;
  const config::SmokeBrowserConfig& b;
  Deadline deadline;
  std::string line;          // "browser http://..."
  std::string timeout_text;  // "20s"
  CheckResult& r;
  std::string content;   // the uploaded file: `marker` on every line ("" = no upload yet)
  std::string marker;    // random per run
  std::string captured;  // the last wait_for's captured attribute (the result link's href)
  std::string key;       // fragment_key, once a never_sent step asked for it
  std::vector<std::pair<std::string, std::string>> never;  // never_sent: (what it is, the value)
  std::string note;                                        // what the download step proved
  void fail(std::string expected, std::string actual) const {
    r.failures.push_back({line, std::move(expected), std::move(actual)});
  }
};

std::string expected(const config::BrowserStep& s, const std::string& fallback) {
  return s.expect.empty() ? fallback : s.expect;
}

// Runs a JavaScript function body on the element `selector` (as `e`); false when there is none.
Result<bool> on_element(Chromium& c, const std::string& selector, const std::string& body,
                        Deadline deadline) {
  auto done = c.evaluate("(() => { const e = document.querySelector(" + quote(selector) +
                             "); if (!e) return false; " + body + " return true; })()",
                         deadline);
  if (!done) return done.error();
  return done->is_boolean() && done->get<bool>();
}

bool step_fill(Browse& w, const config::BrowserStep& s) {
  VariableScope scope{w.ctx.options.version, [&](const std::string& n) { return w.ctx.secret(n); },
                      &w.ctx.vars};
  auto value = expand_variables(s.value, scope);
  if (!value) return w.fail("a value for " + s.selector, value.error().message), false;
  auto done = on_element(
      w.c, s.selector,
      "e.value = " + quote(*value) + "; e.dispatchEvent(new Event('input', {bubbles: true}));", w.deadline);
  if (!done) return w.fail("to fill " + s.selector, done.error().message), false;
  if (!*done) return w.fail(expected(s, "an element " + s.selector + " to fill"), "none"), false;
  return true;
}

// The file: a random marker on every line, so any part of the plaintext on the wire gives it away.
bool step_upload(Browse& w, const config::BrowserStep& s) {
  if (w.content.empty()) {
    w.marker = "villager-browser-marker-" + hex_encode(random_bytes(12));
    for (int i = 0; i < kMarkerLines; ++i) w.content += w.marker + " line " + std::to_string(i) + "\n";
  }
  const fs::path file = w.c.scratch() / "villager-smoke-upload.txt";
  if (auto st = write_file_atomic(file, w.content); !st.ok())
    return w.fail("a file to upload", st.error().message), false;
  auto doc = w.c.call("DOM.getDocument", {{"depth", 0}}, w.deadline);
  if (!doc) return w.fail("the page's document", doc.error().message), false;
  auto input = w.c.call("DOM.querySelector", {{"nodeId", (*doc)["root"]["nodeId"]}, {"selector", s.selector}},
                        w.deadline);
  if (!input || input->value("nodeId", 0) == 0)
    return w.fail(expected(s, "a file input " + s.selector), input ? "none" : input.error().message), false;
  if (auto set = w.c.call("DOM.setFileInputFiles",
                          {{"files", {file.string()}}, {"nodeId", (*input)["nodeId"]}}, w.deadline);
      !set)
    return w.fail("to choose the file in " + s.selector, set.error().message), false;
  return true;
}

bool step_click(Browse& w, const config::BrowserStep& s) {
  auto clicked = on_element(w.c, s.selector, "e.click();", w.deadline);
  if (!clicked || !*clicked)
    return w.fail(expected(s, "a control " + s.selector), clicked ? "none" : clicked.error().message), false;
  return true;
}

// Waits for the element (on a loaded page); with `capture`, for that attribute too, and keeps it (an
// href as the absolute URL, "#" not counting).
bool step_wait_for(Browse& w, const config::BrowserStep& s) {
  const std::string el = "document.querySelector(" + quote(s.selector) + ")";
  std::string js = "document.readyState === 'complete' && !!" + el;
  if (s.capture == "href")
    js = "(() => { const e = " + el +
         "; const h = e && e.getAttribute('href'); return h && h !== '#' ? e.href : ''; })()";
  else if (!s.capture.empty())
    js = "(() => { const e = " + el + "; return (e && e." + s.capture + ") || ''; })()";
  auto got = wait_for(w.c, js, w.deadline);
  if (!got && s.capture.empty())
    return w.fail(expected(s, "an element " + s.selector),
                  "none after " + w.timeout_text + " (" + got.error().message + ")"),
           false;
  if (!got) {
    std::string says;
    if (auto text = w.c.evaluate("document.body ? document.body.innerText : ''",
                                 std::chrono::steady_clock::now() + std::chrono::seconds(2));
        text && text->is_string())
      says = "; the page says: " + excerpt(text->get<std::string>(), 160);
    return w.fail(
               expected(s, "an element " + s.selector + " with a " + s.capture) + " within " + w.timeout_text,
               "none" + says),
           false;
  }
  if (!s.capture.empty()) w.captured = got->is_string() ? got->get<std::string>() : got->dump();
  return true;
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

// Opens the captured link and waits for the control there; false (failure recorded) when it is not.
bool open_download_page(Browse& w, const config::BrowserStep& s, const fs::path& downloads) {
  auto allowed = w.c.call("Browser.setDownloadBehavior",
                          {{"behavior", "allow"}, {"downloadPath", downloads.string()}}, w.deadline);
  if (!allowed)
    allowed = w.c.call("Page.setDownloadBehavior",
                       {{"behavior", "allow"}, {"downloadPath", downloads.string()}}, w.deadline);
  auto back = w.c.call("Page.navigate", {{"url", w.captured}}, w.deadline);
  Result<json> ready = back ? wait_for(w.c,
                                       "document.readyState === 'complete' && !!document.querySelector(" +
                                           quote(s.selector) + ")",
                                       w.deadline)
                            : Result<json>(back.error());
  if (allowed && ready) return true;
  w.fail(expected(s, "the captured link's page with a control " + s.selector),
         !allowed ? allowed.error().message
                  : "no " + s.selector + " on " + excerpt(masked(w.captured, w.key), 100) + " (" +
                        ready.error().message + ")");
  return false;
}

// The way back: the captured link's page downloads (and decrypts); the file must come back whole.
bool step_download(Browse& w, const config::BrowserStep& s) {
  if (w.captured.empty() || w.content.empty())
    return w.fail("an upload and a captured link before download " + s.selector, "none"), false;
  const fs::path downloads = w.c.scratch() / "downloads";
  std::error_code ec;
  fs::create_directories(downloads, ec);
  if (!open_download_page(w, s, downloads)) return false;
  if (auto go = on_element(w.c, s.selector, "e.click();", w.deadline); !go)
    return w.fail("to click " + s.selector, go.error().message), false;
  auto got = downloaded(downloads, w.deadline);
  if (!got)
    return w.fail("the download page to give the file back", "no download within " + w.timeout_text), false;
  if (*got != w.content)
    return w.fail("the download page to give the file back",
                  std::to_string(got->size()) + " bytes that differ from the " +
                      std::to_string(w.content.size()) + " uploaded"),
           false;
  w.note = "; the download page decrypted it back byte for byte";
  return true;
}

// Declares what no request may carry; checked over every request once the steps are done.
bool step_never_sent(Browse& w, const config::BrowserStep& s) {
  if (s.value == "marker") {
    if (w.content.empty()) return w.fail("an upload step before never_sent \"marker\"", "none"), false;
    w.never.push_back({"marker", w.marker});
    return true;
  }
  if (s.value == "fragment_key") {
    // The key is the last '/'-separated part of the captured link's #fragment.
    const auto hash = w.captured.find('#');
    const std::string fragment = hash == std::string::npos ? "" : w.captured.substr(hash + 1);
    w.key = fragment.substr(fragment.rfind('/') == std::string::npos ? 0 : fragment.rfind('/') + 1);
    if (w.key.empty())
      return w.fail(
                 "a key after '#' in the result link",
                 "none: the file was not encrypted in the browser (link " + excerpt(w.captured, 100) + ")"),
             false;
    w.never.push_back({"fragment_key", w.key});
    return true;
  }
  VariableScope scope{w.ctx.options.version, [&](const std::string& n) { return w.ctx.secret(n); },
                      &w.ctx.vars};
  auto value = expand_variables(s.value, scope);
  if (!value || value->empty())
    return w.fail("a value for never_sent", value ? "an empty one" : value.error().message), false;
  w.never.push_back({"literal", *value});
  return true;
}

// Where `needle` is in a request: "URL", "headers", "body" or "".
std::string found_in(const SentRequest& s, const std::string& needle) {
  if (s.url.find(needle) != std::string::npos || percent_decode(s.url).find(needle) != std::string::npos)
    return "URL";
  for (const auto& v : s.header_values)
    if (v.find(needle) != std::string::npos) return "headers";
  return s.body.find(needle) != std::string::npos ? "body" : "";
}

// One request against every never_sent value: the marker (the file's plaintext) in a body, the key or a
// literal anywhere.
void check_request(const SentRequest& s, const Browse& w) {
  std::string url = s.url;
  for (const auto& [kind, value] : w.never)
    if (kind != "marker") url = masked(url, value, kind == "fragment_key" ? "<key>" : "<value>");
  const std::string what = s.method + " " + url;
  for (const auto& [kind, value] : w.never) {
    if (kind == "marker") {
      if (s.body.find(value) != std::string::npos)
        w.r.failures.push_back({what, "a body the browser encrypted", "the file's plaintext"});
      continue;
    }
    std::string where = found_in(s, value);
    if (where.empty()) continue;
    if (kind == "fragment_key")
      w.r.failures.push_back(
          {what, "the key only in the link's #fragment, never sent", "the key in the " + where});
    else
      w.r.failures.push_back({what, "a never_sent value never sent", "it in the " + where});
  }
}

// Every request the page sent, against what the never_sent steps declared.
void check_sent(const Browse& w) {
  if (w.never.empty()) return;
  size_t requests = 0, uploaded = 0;
  for (const auto& s : sent_requests(w.c.events())) {
    ++requests;
    uploaded += s.body.size();
    check_request(s, w);
  }
  std::vector<std::string> kinds;
  for (const auto& [kind, value] : w.never)
    kinds.push_back(kind == "marker"         ? "the file's plaintext"
                    : kind == "fragment_key" ? "the key"
                                             : "a never_sent value");
  if (std::find(kinds.begin(), kinds.end(), "the file's plaintext") != kinds.end() && uploaded == 0)
    w.fail("an upload request from the page", "no request with a body was seen");
  w.r.notes.push_back(std::to_string(requests) + " requests from the page, " + std::to_string(uploaded) +
                      " body bytes, none with " + join(kinds, " or ") + w.note);
}

bool run_step(Browse& w, const config::BrowserStep& s) {
  using A = config::BrowserStep::Action;
  switch (s.action) {
    case A::kFill:
      return step_fill(w, s);
    case A::kUpload:
      return step_upload(w, s);
    case A::kClick:
      return step_click(w, s);
    case A::kWaitFor:
      return step_wait_for(w, s);
    case A::kDownload:
      return step_download(w, s);
    case A::kNeverSent:
      return step_never_sent(w, s);
  }
  return false;
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

// The steps the check runs: the declared ones, else the profile's flow.
std::vector<config::BrowserStep> steps_of(const config::Config& c) {
  const auto& b = c.smoke.browser;
  if (b.steps.empty() && c.profile == config::Profile::kSgraphSend) return sgraph_send::upload_flow_steps(b);
  return b.steps;
}

void drive(SmokeContext& ctx, const SmokeTarget& target, CheckResult& r) {
  const config::SmokeBrowserConfig& b = ctx.config.smoke.browser;
  std::string origin;
  auto flags = browser_flags(ctx, target, origin);
  const std::string url = net::join_url(origin, b.page);
  const Deadline deadline = std::chrono::steady_clock::now() + b.timeout;
  auto fail = [&](std::string expected, std::string actual) {
    r.failures.push_back({"browser " + url, std::move(expected), std::move(actual)});
  };
  if (!flags) return fail("the certificates to trust", flags.error().message);
  auto browser = Chromium::launch(b.chromium, deadline, *flags);
  if (!browser) return fail("a headless browser", browser.error().message);
  Chromium& c = **browser;
  if (auto s = c.call("Network.enable", {{"maxPostDataSize", 64 * 1024 * 1024}}, deadline); !s)
    return fail("the browser's network events", s.error().message);
  auto nav = c.call("Page.navigate", {{"url", url}}, deadline);
  if (!nav) return fail("the page to load", nav.error().message);
  if (nav->contains("errorText")) return fail("the page to load", (*nav)["errorText"].get<std::string>());

  Browse w{ctx, c, b, deadline, "browser " + url, format_duration(b.timeout), r, {}, {}, {}, {}, {}, {}};
  for (const auto& step : steps_of(ctx.config))
    if (!run_step(w, step)) break;
  // What the page sent is checked even after a failed step: the requests made so far still count.
  check_sent(w);
}

}  // namespace

std::vector<CheckResult> check_browser(SmokeContext& ctx) {
  const config::SmokeBrowserConfig& b = ctx.config.smoke.browser;
  const SmokeTarget* target = nullptr;
  for (const auto& t : ctx.targets) {
    const config::ServiceConfig* svc = ctx.config.service(t.service);
    const bool fits = !b.service.empty() ? t.service == b.service
                      : ctx.config.profile == config::Profile::kSgraphSend
                          ? sgraph_send::is_transfers_service(ctx.config, *svc)
                          : !target;
    if (fits) target = &t;
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
