#include "config/profile.h"

#include <algorithm>

#include "base/strings.h"

namespace villager::config {

const std::vector<std::string> kSgraphSendKeys = {
    "access_token_header", "access_token_secret", "write_path", "transfers_path", "preset",
    "app_version",         "meta_fields"};

const std::vector<std::string>& profile_names() {
  static const std::vector<std::string> names = {"none", "sgraph-send"};
  return names;
}

std::string_view profile_name(Profile p) {
  return profile_names()[static_cast<size_t>(p)];
}

std::optional<Profile> parse_profile(std::string_view name) {
  const auto& names = profile_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Profile>(i);
  return std::nullopt;
}

namespace {

const toml::table* table_at(const toml::table* t, const char* key) {
  const toml::node* n = t ? t->get(key) : nullptr;
  return n ? n->as_table() : nullptr;
}

// The upload-flow keys of [smoke.browser] (the sgraph-send profile's steps are made from them).
const std::vector<std::string> kUploadFlowKeys = {"fill", "file_input", "submit", "result", "download"};

// Why a file without `profile` relies on SGraph Send's, or "" when it does not.
std::string inferred_from(const toml::table& root, const Config& c) {
  for (const auto& s : c.services)
    if (std::find(s.secrets.begin(), s.secrets.end(), kSgraphAccessTokenSecret) != s.secrets.end())
      return "[services." + s.name + "] lists the secret " + std::string(kSgraphAccessTokenSecret);
  const toml::table* smoke = table_at(&root, "smoke");
  for (const auto& k : kSgraphSendKeys)
    if (smoke && smoke->contains(k)) return "[smoke] sets '" + k + "'";
  if (table_at(smoke, "sgraph_send")) return "[smoke.sgraph_send] is there";
  const toml::table* browser = table_at(smoke, "browser");
  if (browser && !browser->contains("step")) return "[smoke.browser] describes the upload flow, not steps";
  return "";
}

void read_profile(TomlReader& r, const toml::table& root, Config& c) {
  if (const toml::node* n = root.get("profile")) {
    std::string name;
    r.get(root, "profile", name);
    if (auto p = parse_profile(name)) {
      c.profile = *p;
    } else if (n->is_string()) {
      std::string hint = suggest(name, profile_names());
      r.error_at(*n, "unknown profile '" + name + "' (one of: " + join(profile_names(), ", ") + ")" +
                         (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    return;
  }
  std::string why = inferred_from(root, c);
  if (why.empty()) return;
  c.profile = Profile::kSgraphSend;
  r.deprecate(root.source(), "no 'profile' key: profile \"sgraph-send\" is inferred because " + why +
                                 "; add profile = \"sgraph-send\" at the top of the file");
}

// One table's SGraph Send keys into `s` (a later table overrides an earlier one key by key).
void read_sgraph_keys(TomlReader& r, const toml::table& t, SgraphSendConfig& s) {
  r.get(t, "access_token_header", s.access_token_header);
  r.get(t, "access_token_secret", s.access_token_secret);
  if (t.contains("write_path")) r.get(t, "write_path", s.write_path.emplace());
  if (t.contains("transfers_path")) r.get(t, "transfers_path", s.transfers_path.emplace());
  r.get(t, "preset", s.preset);
  r.get(t, "app_version", s.app_version);
  r.get(t, "meta_fields", s.meta_fields);
}

void check_sgraph_send(TomlReader& r, const toml::table& smoke, const toml::table* section,
                       const SgraphSendConfig& s) {
  // Errors point at the key where it was written: the section, else the deprecated [smoke] key.
  auto where = [&](const std::string& key) {
    return section && section->contains(key) ? r.where(*section, key) : r.where(smoke, key);
  };
  if (s.preset != "sgraph-send" && s.preset != "none")
    r.error(where("preset"), "unknown preset '" + s.preset + "' (one of: sgraph-send, none)");
  for (const auto& [key, value] :
       {std::pair{"write_path", &s.write_path}, {"transfers_path", &s.transfers_path}})
    if (s.preset == "none" && !*value)
      r.error(where("preset"),
              std::string("preset = \"none\" needs '") + key + "' set in [smoke.sgraph_send]");
}

// [smoke.sgraph_send], the deprecated same keys in [smoke], and the defaults; profile "sgraph-send".
void read_sgraph_send(TomlReader& r, const toml::table& root, Config& c) {
  SgraphSendConfig& s = c.smoke.sgraph_send;
  s.access_token_header = kSgraphAccessTokenHeader;
  s.access_token_secret = kSgraphAccessTokenSecret;
  s.preset = "sgraph-send";
  const toml::table* smoke = table_at(&root, "smoke");
  if (!smoke) return;
  for (const auto& k : kSgraphSendKeys)
    if (smoke->contains(k))
      r.deprecate(r.where(*smoke, k), "[smoke] " + k + " is deprecated: move it to [smoke.sgraph_send]");
  read_sgraph_keys(r, *smoke, s);
  const toml::node* n = smoke->get("sgraph_send");
  const toml::table* section = n ? n->as_table() : nullptr;
  if (n && !section) r.error_at(*n, "'smoke.sgraph_send' must be a table ([smoke.sgraph_send])");
  if (section) {
    r.check_keys(*section, "[smoke.sgraph_send]", kSgraphSendKeys);
    for (const auto& k : kSgraphSendKeys)
      if (section->contains(k) && smoke->contains(k))
        r.error(r.where(*section, k), "'" + k +
                                          "' is set in both [smoke] and [smoke.sgraph_send]: keep the "
                                          "[smoke.sgraph_send] one");
    read_sgraph_keys(r, *section, s);
  }
  check_sgraph_send(r, *smoke, section, s);
}

// Profile "none": an SGraph Send key anywhere is a mistake, said where it is written.
void refuse_sgraph_keys(TomlReader& r, const toml::table& root) {
  const toml::table* smoke = table_at(&root, "smoke");
  if (!smoke) return;
  const std::string fix = " (set profile = \"sgraph-send\" at the top of the file, or leave it out)";
  for (const auto& k : kSgraphSendKeys)
    if (smoke->contains(k))
      r.error(r.where(*smoke, k), "[smoke] " + k + " belongs to profile \"sgraph-send\"" + fix);
  if (const toml::node* n = smoke->get("sgraph_send"))
    r.error_at(*n, "[smoke.sgraph_send] belongs to profile \"sgraph-send\"" + fix);
  const toml::table* browser = table_at(smoke, "browser");
  for (const auto& k : kUploadFlowKeys)
    if (browser && browser->contains(k))
      r.error(r.where(*browser, k), "[smoke.browser] " + k +
                                        " describes profile \"sgraph-send\"'s upload flow: write the page's "
                                        "[[smoke.browser.step]] entries instead" +
                                        fix);
}

// [smoke.browser]: declared steps, or (sgraph-send only) the upload-flow keys, not both.
void check_browser(TomlReader& r, const toml::table& root, const Config& c) {
  const toml::table* browser = table_at(table_at(&root, "smoke"), "browser");
  if (!browser || c.smoke.browser.page.empty()) return;
  const bool steps = browser->contains("step");
  if (steps) {
    for (const auto& k : kUploadFlowKeys)
      if (browser->contains(k) && c.profile == Profile::kSgraphSend)
        r.error(r.where(*browser, k), "[smoke.browser] has [[smoke.browser.step]] entries: '" + k +
                                          "' (the upload flow's) would be ignored; write it as a step");
    return;
  }
  if (c.profile == Profile::kNone)
    r.error(browser->source(),
            "[smoke.browser] needs [[smoke.browser.step]] entries (what to do on the page)");
  else if (c.smoke.browser.result.empty())
    r.error(browser->source(), "missing required key 'result'");
}

// lambda's storage_prefix: the profile's when the environment does not set one.
void apply_lambda_defaults(const toml::table& root, Config& c) {
  if (c.profile != Profile::kSgraphSend) return;
  const toml::table* envs = table_at(&root, "environments");
  for (auto& e : c.environments) {
    const toml::table* t = table_at(envs, e.name.c_str());
    if (e.target == TargetKind::kLambda && t && !t->contains("storage_prefix"))
      e.lambda.storage_prefix = kSgraphStoragePrefix;
  }
}

}  // namespace

void apply_profile(TomlReader& r, const toml::table& root, Config& c) {
  read_profile(r, root, c);
  if (c.profile == Profile::kSgraphSend)
    read_sgraph_send(r, root, c);
  else
    refuse_sgraph_keys(r, root);
  check_browser(r, root, c);
  apply_lambda_defaults(root, c);
}

}  // namespace villager::config
