// frontend: each configured page answers 200 with text/html (and the expected text, if set), and every
// same-origin script, stylesheet and image it references answers 200 with a plausible content type.
// Same-origin redirects are followed (at most [smoke] max_redirects hops, each recorded in the result) and
// the final page is the one checked; a redirect to another origin, a loop or too many hops is a failure.
// What the page's JavaScript does in a browser is out of reach here (docs/smoke.md).

#include <algorithm>
#include <regex>
#include <set>

#include "base/strings.h"
#include "net/url.h"
#include "smoke/context.h"

namespace villager::smoke {

namespace {

struct Asset {
  std::string url;
  std::string kind;  // "script" | "stylesheet" | "image"
};

std::optional<std::string> attribute(const std::string& tag, const std::string& name) {
  std::regex re("\\s" + name + "\\s*=\\s*(\"([^\"]*)\"|'([^']*)'|([^\\s>]+))", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(tag, m, re)) return std::nullopt;
  for (int i = 2; i <= 4; ++i)
    if (m[i].matched) return m[i].str();
  return std::nullopt;
}

// Same-origin subresources of a page, in document order.
std::vector<Asset> subresources(const net::Url& page, const std::string& html) {
  static const std::regex kTag("<(script|link|img)\\b[^>]*>", std::regex::icase);
  std::vector<Asset> out;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), kTag); it != std::sregex_iterator(); ++it) {
    std::string tag = it->str(), name = to_lower(it->str(1));
    std::optional<std::string> ref;
    std::string kind;
    if (name == "script") {
      ref = attribute(tag, "src");
      kind = "script";
    } else if (name == "img") {
      ref = attribute(tag, "src");
      kind = "image";
    } else {
      std::string rel = to_lower(attribute(tag, "rel").value_or(""));
      if (rel.find("stylesheet") != std::string::npos)
        kind = "stylesheet";
      else if (rel.find("icon") != std::string::npos)
        kind = "image";
      else
        continue;
      ref = attribute(tag, "href");
    }
    if (!ref) continue;
    std::string url = net::resolve_reference(page, *ref);
    auto u = net::parse_url(url);
    if (url.empty() || !u || u->origin() != page.origin()) continue;
    out.push_back({url, kind});
  }
  return out;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

struct Fetched {
  net::HttpResponse resp;
  std::string url;  // where the final answer came from
};

// GETs `url`, following same-origin redirects and recording each hop in r.redirects. On a transport error,
// a redirect elsewhere, a loop or too many hops it adds one failure (`line`, `expected`) and returns
// nullopt.
std::optional<Fetched> fetch_following(SmokeContext& ctx, const SmokeTarget& t, const std::string& url,
                                       const std::string& line, const std::string& expected, CheckResult& r) {
  const int max_hops = ctx.config.smoke.max_redirects;
  auto start = net::parse_url(url);
  std::vector<std::string> chain = {url};
  std::string current = url;
  for (int hop = 0;; ++hop) {
    net::HttpRequest req;
    req.url = current;
    auto resp = ctx.send_url(t, req);
    if (!resp) {
      r.failures.push_back({line, expected, resp.error().message});
      return std::nullopt;
    }
    if (!is_redirect(resp->status)) return Fetched{std::move(*resp), current};
    auto here = net::parse_url(current);
    std::string location = resp->headers.get("location").value_or("");
    std::string next = here && !location.empty() ? net::resolve_reference(*here, location) : "";
    r.redirects.push_back({current, resp->status, location});
    auto to = net::parse_url(next);
    std::string path = join(chain, " -> ");
    if (location.empty() || next.empty() || !to) {
      r.failures.push_back({line, expected,
                            "status " + std::to_string(resp->status) + " redirect with " +
                                (location.empty() ? "no Location" : "Location " + quote(location)) +
                                " that cannot be followed"});
      return std::nullopt;
    }
    if (!start || to->origin() != start->origin()) {
      r.failures.push_back({line, expected,
                            "a redirect to another origin: " + path + " -> " + next + " (status " +
                                std::to_string(resp->status) + "; only same-origin redirects are followed)"});
      return std::nullopt;
    }
    if (std::find(chain.begin(), chain.end(), next) != chain.end()) {
      r.failures.push_back({line, expected, "a redirect loop: " + path + " -> " + next});
      return std::nullopt;
    }
    chain.push_back(next);
    if (hop + 1 > max_hops) {
      r.failures.push_back({line, expected,
                            "more than " + std::to_string(max_hops) +
                                " redirects ([smoke] max_redirects): " + join(chain, " -> ")});
      return std::nullopt;
    }
    current = next;
  }
}

bool plausible(const std::string& kind, std::string content_type) {
  content_type = to_lower(content_type);
  if (kind == "script")
    return content_type.find("javascript") != std::string::npos ||
           content_type.find("ecmascript") != std::string::npos;
  if (kind == "stylesheet") return starts_with(content_type, "text/css");
  return starts_with(content_type, "image/");
}

}  // namespace

std::vector<CheckResult> check_frontend(SmokeContext& ctx) {
  std::vector<CheckResult> out;
  for (const auto& t : ctx.targets) {
    const auto started = ctx.clock.steady_now();
    const config::ServiceConfig* svc = ctx.config.service(t.service);
    if (svc->frontend_pages.empty()) continue;
    CheckResult r{"frontend", t.service};
    std::set<std::string> seen;
    size_t assets = 0;
    for (const auto& page : svc->frontend_pages) {
      std::string url = net::join_url(t.base_url, page);
      std::string line = "GET " + url;
      auto fetched = fetch_following(ctx, t, url, line, "200 text/html", r);
      if (!fetched) continue;
      const net::HttpResponse& resp = fetched->resp;
      if (fetched->url != url) line += " (redirected to " + fetched->url + ")";
      std::string ct = resp.headers.get("content-type").value_or("");
      if (resp.status != 200 || !starts_with(to_lower(ct), "text/html")) {
        r.failures.push_back(
            {line, "200 text/html", describe(resp) + ", content-type " + (ct.empty() ? "(none)" : ct)});
        continue;
      }
      if (auto want = ctx.config.smoke.frontend_text.find(page); want != ctx.config.smoke.frontend_text.end())
        if (resp.body.find(want->second) == std::string::npos)
          r.failures.push_back({line, "a page containing " + quote(want->second),
                                "not found in " + std::to_string(resp.body.size()) + " bytes"});
      // Assets resolve against the page that was finally served, as a browser does.
      auto page_url = net::parse_url(fetched->url);
      if (!page_url) continue;
      for (const auto& a : subresources(*page_url, resp.body)) {
        if (!seen.insert(a.url).second) continue;
        ++assets;
        std::string aline = "GET " + a.url + " (" + a.kind + " of " + page + ")";
        auto got = fetch_following(ctx, t, a.url, aline, "200", r);
        if (!got) continue;
        const net::HttpResponse& ar = got->resp;
        std::string act = ar.headers.get("content-type").value_or("");
        if (ar.status != 200)
          r.failures.push_back({aline, "200", describe(ar)});
        else if (!plausible(a.kind, act))
          r.failures.push_back({aline, "a " + a.kind + " content type",
                                act.empty() ? "no content-type" : "content-type " + act});
      }
    }
    r.notes.push_back(
        std::to_string(svc->frontend_pages.size()) + " pages, " + std::to_string(assets) +
        " same-origin assets" +
        (r.redirects.empty() ? "" : ", " + std::to_string(r.redirects.size()) + " redirects followed"));
    r.duration = ctx.elapsed(started);
    out.push_back(std::move(r));
  }
  if (out.empty()) {
    CheckResult r{"frontend", ""};
    r.skipped = true;
    r.notes.push_back("not applicable: no service has frontend_pages");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace villager::smoke
