// Declarative checks ([[smoke.check]]): one request, expectations on status, headers, body, JSON and
// duration, retries, and captures that later checks use as ${NAME}.

#include <regex>

#include "base/strings.h"
#include "net/url.h"
#include "smoke/context.h"
#include "smoke/json_path.h"
#include "smoke/variables.h"

namespace villager::smoke {

namespace {

std::string join_ints(const std::vector<int>& v) {
  std::vector<std::string> s;
  for (int i : v) s.push_back(std::to_string(i));
  return join(s, " or ");
}

// Every unmet expectation of `k` on `resp`.
std::vector<Failure> evaluate(const config::SmokeCheckConfig& k, const std::string& line,
                              const net::HttpResponse& resp,
                              const std::function<Result<std::string>(const std::string&)>& expand) {
  std::vector<Failure> f;
  auto expanded = [&](const std::string& s) -> std::optional<std::string> {
    auto e = expand(s);
    if (!e) {
      f.push_back({line, "known variables", e.error().message});
      return std::nullopt;
    }
    return *e;
  };
  if (!k.status.empty() && std::find(k.status.begin(), k.status.end(), resp.status) == k.status.end())
    f.push_back({line, "status " + join_ints(k.status), describe(resp)});
  for (const auto& [name, want] : k.headers_equal) {
    auto v = expanded(want);
    auto got = resp.headers.get(name);
    if (v && got != *v)
      f.push_back({line, name + ": " + *v, got ? name + ": " + *got : "no " + name + " header"});
  }
  for (const auto& [name, want] : k.headers_contain) {
    auto v = expanded(want);
    auto got = resp.headers.get(name);
    if (v && (!got || got->find(*v) == std::string::npos))
      f.push_back(
          {line, name + " containing " + quote(*v), got ? name + ": " + *got : "no " + name + " header"});
  }
  for (const auto& name : k.headers_absent)
    if (auto got = resp.headers.get(name)) f.push_back({line, "no " + name + " header", name + ": " + *got});
  for (const auto& want : k.body_contains) {
    auto v = expanded(want);
    if (v && resp.body.find(*v) == std::string::npos)
      f.push_back({line, "body containing " + quote(*v), "body " + excerpt(resp.body)});
  }
  for (const auto& re : k.body_regex) {
    try {
      if (!std::regex_search(resp.body, std::regex(re)))
        f.push_back({line, "body matching /" + re + "/", "body " + excerpt(resp.body)});
    } catch (const std::regex_error& e) {
      f.push_back({line, "a valid regular expression", re + ": " + e.what()});
    }
  }
  if (!k.json_equal.empty() || !k.json_exists.empty()) {
    auto j = nlohmann::json::parse(resp.body, nullptr, false);
    if (j.is_discarded()) {
      f.push_back({line, "a JSON body", "body " + excerpt(resp.body)});
    } else {
      for (const auto& [path, want_text] : k.json_equal) {
        auto want = nlohmann::json::parse(want_text, nullptr, false);
        if (want.is_string()) {
          auto v = expanded(want.get<std::string>());
          if (!v) continue;
          want = *v;
        }
        const nlohmann::json* got = json_at(j, path);
        if (!got || *got != want)
          f.push_back({line, path + " = " + want.dump(),
                       got ? path + " = " + excerpt(got->dump()) : path + " missing"});
      }
      for (const auto& path : k.json_exists)
        if (!json_at(j, path)) f.push_back({line, path + " present", path + " missing"});
    }
  }
  if (k.max_duration && resp.duration > *k.max_duration)
    f.push_back({line, "at most " + format_duration(*k.max_duration),
                 std::to_string(resp.duration.count() / 1000) + "ms"});
  return f;
}

}  // namespace

std::vector<CheckResult> check_declared(SmokeContext& ctx, const config::SmokeCheckConfig& k) {
  std::vector<CheckResult> out;
  VariableScope scope{ctx.options.version, [&](const std::string& n) { return ctx.secret(n); }, &ctx.vars};
  auto expand = [&](const std::string& s) { return expand_variables(s, scope); };
  for (const auto& t : ctx.targets) {
    const auto started = ctx.clock.steady_now();
    if (!k.service.empty() && t.service != k.service) continue;
    CheckResult r{k.name, t.service};
    auto path = expand(k.path);
    auto body = expand(k.body);
    net::HttpRequest req;
    req.method = k.method;
    req.timeout = k.timeout;
    bool ok = path.has_value() && body.has_value();
    if (!path) r.failures.push_back({k.method + " " + k.path, "known variables", path.error().message});
    if (!body) r.failures.push_back({k.method + " " + k.path, "known variables", body.error().message});
    for (const auto& [name, value] : k.headers) {
      auto v = expand(value);
      if (!v) {
        r.failures.push_back({k.method + " " + k.path, "known variables", v.error().message});
        ok = false;
      } else {
        req.headers.push_back({name, *v});
      }
    }
    if (!ok) {
      r.passed = false;
      r.duration = ctx.elapsed(started);
      out.push_back(std::move(r));
      continue;
    }
    req.body = *body;
    const std::string line = k.method + " " + net::join_url(t.base_url, *path);
    std::optional<net::HttpResponse> last;
    for (int attempt = 0; attempt <= k.retries; ++attempt) {
      if (attempt > 0) ctx.clock.sleep_for(k.retry_interval);
      auto resp = ctx.send(t, req, *path);
      if (!resp) {
        r.failures = {{line, "an answer", resp.error().message}};
        last.reset();
        continue;
      }
      r.failures = evaluate(k, line, *resp, expand);
      last = std::move(*resp);
      if (r.failures.empty()) break;
    }
    if (k.retries > 0) r.notes.push_back("up to " + std::to_string(k.retries + 1) + " attempts");
    if (last) {
      for (const auto& [var, source] : k.capture) {
        std::optional<std::string> v;
        if (source == "body") {
          v = last->body;
        } else if (starts_with(source, "header:")) {
          v = last->headers.get(source.substr(7));
        } else if (starts_with(source, "json:")) {
          auto j = nlohmann::json::parse(last->body, nullptr, false);
          if (!j.is_discarded())
            if (const auto* at = json_at(j, source.substr(5))) v = json_text(*at);
        }
        if (v)
          ctx.vars[var] = *v;
        else
          r.failures.push_back({line, "capture " + var + " from " + source, "not present in the answer"});
      }
    }
    r.duration = ctx.elapsed(started);
    out.push_back(std::move(r));
  }
  if (out.empty()) {
    CheckResult r{k.name, k.service};
    r.skipped = true;
    r.notes.push_back("not applicable: service " + k.service + " is not among the targets");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace villager::smoke
