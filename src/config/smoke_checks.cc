#include "config/smoke_checks.h"

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "base/strings.h"

namespace villager::config {

namespace {

const std::vector<std::string> kCheckKeys = {"name",    "service", "method",  "path",
                                             "headers", "body",    "retries", "retry_interval",
                                             "timeout", "capture", "expect"};
const std::vector<std::string> kExpectKeys = {"status",         "headers",       "headers_contain",
                                              "headers_absent", "body_contains", "body_regex",
                                              "json",           "json_exists",   "max_duration"};
const std::vector<std::string> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
const std::vector<std::string> kBuiltinNames = {"health", "auth", "cors", "plaintext", "frontend", "browser"};
const std::vector<std::string> kBrowserKeys = {"page",   "service",  "fill",    "file_input", "submit",
                                               "result", "download", "timeout", "chromium",   "step"};
const std::vector<std::string> kStepKeys = {"action", "selector", "value", "capture"};
// What a wait_for step may keep of the element: an attribute the later steps read.
const std::vector<std::string> kCaptures = {"href", "src", "value"};

// Records "unknown service 'x' (did you mean 'y'?)" at `key` when `name` is set and not a service.
void check_service(TomlReader& r, const toml::table& t, const std::string& key, const std::string& name,
                   const Config& c) {
  if (name.empty() || c.service(name)) return;
  std::vector<std::string> known;
  for (const auto& s : c.services) known.push_back(s.name);
  std::string hint = suggest(name, known);
  r.error(r.where(t, key),
          "unknown service '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

// One [[smoke.browser.step]]: its action and the keys that action needs (and only those).
void parse_step(TomlReader& r, const toml::table& t, SmokeBrowserConfig& b) {
  r.check_keys(t, "[[smoke.browser.step]]", kStepKeys);
  std::string action;
  r.get(t, "action", action, true);
  if (!t.contains("action")) return;
  BrowserStep step;
  const auto& names = browser_action_names();
  auto it = std::find(names.begin(), names.end(), action);
  if (it == names.end()) {
    std::string hint = suggest(action, names);
    r.error(r.where(t, "action"), "unknown browser action '" + action + "' (one of: " + join(names, ", ") +
                                      ")" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    return;
  }
  step.action = static_cast<BrowserStep::Action>(it - names.begin());
  r.get(t, "selector", step.selector);
  r.get(t, "value", step.value);
  r.get(t, "capture", step.capture);
  using A = BrowserStep::Action;
  const bool needs_selector = step.action != A::kNeverSent;
  const bool takes_value = step.action == A::kFill || step.action == A::kNeverSent;
  if (needs_selector && step.selector.empty())
    r.error(t.source(), "browser action '" + action + "' needs 'selector' (a CSS selector)");
  if (!needs_selector && t.contains("selector"))
    r.error(r.where(t, "selector"), "browser action '" + action + "' takes no 'selector'");
  if (takes_value && !t.contains("value"))
    r.error(t.source(),
            "browser action '" + action + "' needs 'value'" +
                (step.action == A::kNeverSent ? " (\"marker\", \"fragment_key\" or a literal)" : ""));
  if (!takes_value && t.contains("value"))
    r.error(r.where(t, "value"), "browser action '" + action + "' takes no 'value'");
  if (step.action == A::kNeverSent && t.contains("value") && step.value.empty())
    r.error(r.where(t, "value"), "never_sent needs something to look for, not \"\"");
  if (t.contains("capture") && step.action != A::kWaitFor)
    r.error(r.where(t, "capture"), "'capture' is for action \"wait_for\"");
  else if (!step.capture.empty() &&
           std::find(kCaptures.begin(), kCaptures.end(), step.capture) == kCaptures.end())
    r.error(r.where(t, "capture"),
            "capture '" + step.capture +
                "' is not an attribute the steps read (one of: " + join(kCaptures, ", ") + ")");
  b.steps.push_back(std::move(step));
}

void parse_browser(TomlReader& r, const toml::table& smoke, Config& c) {
  const toml::node* n = smoke.get("browser");
  if (!n) return;
  const toml::table* t = n->as_table();
  if (!t) {
    r.error_at(*n, "'smoke.browser' must be a table ([smoke.browser])");
    return;
  }
  r.check_keys(*t, "[smoke.browser]", kBrowserKeys);
  SmokeBrowserConfig& b = c.smoke.browser;
  r.get(*t, "page", b.page, true);
  r.get(*t, "service", b.service);
  // fill, file_input, submit, result, download: profile sgraph-send's upload flow (config/profile.cc).
  r.get(*t, "fill", b.fill);
  r.get(*t, "file_input", b.file_input);
  r.get(*t, "submit", b.submit);
  r.get(*t, "result", b.result);
  r.get(*t, "download", b.download);
  r.get_duration(*t, "timeout", b.timeout);
  r.get(*t, "chromium", b.chromium);
  if (!b.page.empty() && b.page[0] != '/')
    r.error(r.where(*t, "page"), "page '" + b.page + "' must start with '/'");
  check_service(r, *t, "service", b.service, c);
  for (const auto& [key, selector] :
       {std::pair<std::string, std::string>{"file_input", b.file_input}, {"submit", b.submit}}) {
    if (selector.empty()) r.error(r.where(*t, key), key + " must be a CSS selector");
  }
  if (b.chromium.empty()) r.error(r.where(*t, "chromium"), "chromium must name the browser binary");
  if (const toml::node* steps = t->get("step")) {
    const toml::array* a = steps->as_array();
    if (!a)
      return r.error_at(*steps, "'smoke.browser.step' must be written as [[smoke.browser.step]] tables");
    for (const auto& el : *a) {
      if (const toml::table* st = el.as_table())
        parse_step(r, *st, b);
      else
        r.error_at(el, "each 'smoke.browser.step' entry must be a table");
    }
  }
}

bool valid_variable(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// A string, or an array of strings, as a list.
void get_list(TomlReader& r, const toml::table& t, const std::string& key, std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (auto s = n->value<std::string>()) {
    out.push_back(*s);
    return;
  }
  r.get(t, key, out);
}

// A TOML scalar as the JSON text of the same value.
std::optional<std::string> scalar_as_json(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return quote(*s);
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = n.value_exact<double>()) {
    std::ostringstream os;
    os << *d;
    return os.str();
  }
  return std::nullopt;
}

void parse_expect(TomlReader& r, const toml::table& e, SmokeCheckConfig& k) {
  r.check_keys(e, "[smoke.check.expect]", kExpectKeys);
  if (const toml::node* st = e.get("status")) {
    if (st->is_integer()) {
      int v = 0;
      r.get(e, "status", v, 100, 599);
      k.status.push_back(v);
    } else {
      r.get(e, "status", k.status);
      for (int v : k.status)
        if (v < 100 || v > 599) r.error_at(*st, "status " + std::to_string(v) + " is not an HTTP status");
    }
  }
  r.get(e, "headers", k.headers_equal);
  r.get(e, "headers_contain", k.headers_contain);
  get_list(r, e, "headers_absent", k.headers_absent);
  get_list(r, e, "body_contains", k.body_contains);
  get_list(r, e, "body_regex", k.body_regex);
  for (const auto& re : k.body_regex) {
    try {
      std::regex compiled(re);
    } catch (const std::regex_error& ex) {
      r.error(r.where(e, "body_regex"), "bad regular expression '" + re + "': " + ex.what());
    }
  }
  if (const toml::node* j = e.get("json")) {
    if (const toml::table* jt = j->as_table()) {
      for (auto&& [path, v] : *jt) {
        auto text = scalar_as_json(v);
        if (!text)
          r.error_at(v, "expect.json." + std::string(path.str()) + " must be a string, number or boolean");
        else
          k.json_equal[std::string(path.str())] = *text;
      }
    } else {
      r.error_at(*j, "expect.json must be a table of JSON path = value");
    }
  }
  get_list(r, e, "json_exists", k.json_exists);
  if (e.contains("max_duration")) {
    Millis d{0};
    r.get_duration(e, "max_duration", d);
    k.max_duration = d;
  }
}

}  // namespace

const std::vector<std::string>& browser_action_names() {
  // In BrowserStep::Action's order.
  static const std::vector<std::string> names = {"fill",     "upload",   "click",
                                                 "wait_for", "download", "never_sent"};
  return names;
}

std::string_view browser_action_name(BrowserStep::Action a) {
  return browser_action_names()[static_cast<size_t>(a)];
}

void parse_smoke_checks(TomlReader& r, const toml::table& smoke, Config& c) {
  r.get(smoke, "frontend_text", c.smoke.frontend_text);
  parse_browser(r, smoke, c);
  const toml::node* n = smoke.get("check");
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) {
    r.error_at(*n, "'smoke.check' must be written as [[smoke.check]] tables");
    return;
  }
  std::set<std::string> names;
  for (const auto& el : *a) {
    const toml::table* t = el.as_table();
    if (!t) {
      r.error_at(el, "each 'smoke.check' entry must be a table");
      continue;
    }
    SmokeCheckConfig k;
    r.check_keys(*t, "[[smoke.check]]", kCheckKeys);
    r.get(*t, "name", k.name, true);
    r.get(*t, "service", k.service);
    r.get(*t, "method", k.method);
    r.get(*t, "path", k.path, true);
    std::map<std::string, std::string> headers;
    r.get(*t, "headers", headers);
    k.headers.assign(headers.begin(), headers.end());
    r.get(*t, "body", k.body);
    r.get(*t, "retries", k.retries, 0, 100);
    r.get_duration(*t, "retry_interval", k.retry_interval);
    r.get_duration(*t, "timeout", k.timeout);
    r.get(*t, "capture", k.capture);
    if (const toml::node* e = t->get("expect")) {
      if (const toml::table* et = e->as_table())
        parse_expect(r, *et, k);
      else
        r.error_at(*e, "expect must be a table ([smoke.check.expect] or expect = { ... })");
    }

    if (!k.name.empty()) {
      if (!names.insert(k.name).second)
        r.error(r.where(*t, "name"), "duplicate smoke check '" + k.name + "'");
      if (std::find(kBuiltinNames.begin(), kBuiltinNames.end(), k.name) != kBuiltinNames.end())
        r.error(r.where(*t, "name"), "'" + k.name + "' is the name of a built-in check; choose another");
    }
    std::transform(k.method.begin(), k.method.end(), k.method.begin(), ::toupper);
    if (std::find(kMethods.begin(), kMethods.end(), k.method) == kMethods.end())
      r.error(r.where(*t, "method"), "method '" + k.method + "' is not one of " + join(kMethods, ", "));
    if (!k.path.empty() && k.path[0] != '/' && !starts_with(k.path, "${"))
      r.error(r.where(*t, "path"), "path '" + k.path + "' must start with '/'");
    check_service(r, *t, "service", k.service, c);
    for (const auto& [var, source] : k.capture) {
      if (!valid_variable(var))
        r.error(r.where(*t, "capture"), "capture name '" + var + "' must be letters, digits and '_'");
      if (!starts_with(source, "json:") && !starts_with(source, "header:") && source != "body")
        r.error(r.where(*t, "capture"),
                "capture '" + var + "' = '" + source + "': use \"json:PATH\", \"header:NAME\" or \"body\"");
    }
    c.smoke.checks.push_back(std::move(k));
  }
}

}  // namespace villager::config
