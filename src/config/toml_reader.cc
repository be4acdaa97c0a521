#include "config/toml_reader.h"

#include "base/strings.h"

namespace villager::config {

void TomlReader::error(const toml::source_region& where, const std::string& message) {
  errors_.push_back(file_.string() + ":" + std::to_string(where.begin.line) + ":" +
                    std::to_string(where.begin.column) + ": " + message);
}

void TomlReader::warn(const toml::source_region& where, const std::string& message) {
  warnings_.push_back(file_.string() + ":" + std::to_string(where.begin.line) + ":" +
                      std::to_string(where.begin.column) + ": " + message);
}

void TomlReader::deprecate(const toml::source_region& where, const std::string& message) {
  deprecations_.push_back(file_.string() + ":" + std::to_string(where.begin.line) + ":" +
                          std::to_string(where.begin.column) + ": " + message);
}

std::string TomlReader::type_name(const toml::node& n) const {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

void TomlReader::check_keys(const toml::table& t, const std::string& where,
                            const std::vector<std::string>& allowed) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == key;
    if (ok) continue;
    std::string hint = suggest(key, allowed);
    error(k.source(),
          "unknown key '" + key + "' in " + where + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
}

toml::source_region TomlReader::where(const toml::table& t, const std::string& key) const {
  if (auto* n = t.get(key)) return n->source();
  return t.source();
}

void TomlReader::get(const toml::table& t, const std::string& key, std::string& out, bool required) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) error(t.source(), "missing required key '" + key + "'");
    return;
  }
  if (auto s = n->value<std::string>(); s && n->is_string()) {
    out = *s;
  } else {
    error_at(*n, "'" + key + "' must be a string, not " + type_name(*n));
  }
}

void TomlReader::get(const toml::table& t, const std::string& key, bool& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (n->is_boolean())
    out = n->as_boolean()->get();
  else
    error_at(*n, "'" + key + "' must be true or false, not " + type_name(*n));
}

void TomlReader::get(const toml::table& t, const std::string& key, int& out, int min, int max) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_integer()) {
    error_at(*n, "'" + key + "' must be an integer, not " + type_name(*n));
    return;
  }
  int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    error_at(*n, "'" + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
    return;
  }
  out = static_cast<int>(v);
}

void TomlReader::get(const toml::table& t, const std::string& key, size_t& out, size_t min, size_t max) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_integer() || n->as_integer()->get() < 0) {
    error_at(*n, "'" + key + "' must be a non-negative integer");
    return;
  }
  auto v = static_cast<size_t>(n->as_integer()->get());
  if (v < min || v > max) {
    error_at(*n, "'" + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
    return;
  }
  out = v;
}

void TomlReader::get(const toml::table& t, const std::string& key, double& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (n->is_floating_point())
    out = n->as_floating_point()->get();
  else if (n->is_integer())
    out = static_cast<double>(n->as_integer()->get());
  else
    error_at(*n, "'" + key + "' must be a number, not " + type_name(*n));
}

void TomlReader::get(const toml::table& t, const std::string& key, std::vector<std::string>& out,
                     bool required) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) error(t.source(), "missing required key '" + key + "'");
    return;
  }
  const toml::array* a = n->as_array();
  if (!a) {
    error_at(*n, "'" + key + "' must be an array of strings, not " + type_name(*n));
    return;
  }
  std::vector<std::string> v;
  for (const auto& e : *a) {
    if (!e.is_string()) {
      error_at(e, "'" + key + "' must hold only strings, found " + type_name(e));
      return;
    }
    v.push_back(e.as_string()->get());
  }
  out = std::move(v);
}

void TomlReader::get(const toml::table& t, const std::string& key, std::vector<int>& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) {
    error_at(*n, "'" + key + "' must be an array of integers, not " + type_name(*n));
    return;
  }
  std::vector<int> v;
  for (const auto& e : *a) {
    if (!e.is_integer()) {
      error_at(e, "'" + key + "' must hold only integers, found " + type_name(e));
      return;
    }
    v.push_back(static_cast<int>(e.as_integer()->get()));
  }
  out = std::move(v);
}

void TomlReader::get_duration(const toml::table& t, const std::string& key, Millis& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_string()) {
    error_at(*n, "'" + key + "' must be a duration string such as \"30s\", \"500ms\" or \"1h30m\", not " +
                     type_name(*n));
    return;
  }
  auto d = parse_duration(n->as_string()->get());
  if (!d)
    error_at(*n, "'" + key + "': " + d.error().message);
  else
    out = *d;
}

void TomlReader::get_host_port(const toml::table& t, const std::string& key, HostPort& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_string()) {
    error_at(*n, "'" + key + "' must be an address string such as \"127.0.0.1:8080\"");
    return;
  }
  auto hp = parse_host_port(n->as_string()->get());
  if (!hp)
    error_at(*n, "'" + key + "': " + hp.error().message);
  else
    out = *hp;
}

void TomlReader::get(const toml::table& t, const std::string& key, std::map<std::string, std::string>& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  const toml::table* tt = n->as_table();
  if (!tt) {
    error_at(*n, "'" + key + "' must be a table of strings, such as { NAME = \"value\" }");
    return;
  }
  for (auto&& [k, v] : *tt) {
    if (!v.is_string()) {
      error_at(v, "'" + key + "." + std::string(k.str()) + "' must be a string");
      continue;
    }
    out[std::string(k.str())] = v.as_string()->get();
  }
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace villager::config
