#include "ci/yaml.h"

#include <algorithm>
#include <cctype>

namespace villager::ci {

namespace {

// Words YAML 1.1 readers (PyYAML, older tools) turn into booleans or nulls.
bool is_reserved_word(std::string lower) {
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kWords[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"};
  for (const char* w : kWords)
    if (lower == w) return true;
  return false;
}

// A digit first, or a sign or dot before one: a reader may take it for a number.
bool looks_numeric(const std::string& s) {
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  if (s.empty()) return false;
  if (digit(s[0])) return true;
  return (s[0] == '.' || s[0] == '+' || s[0] == '-') && s.size() > 1 && digit(s[1]);
}

// A plain scalar here: letters, digits and _ . / @ - (not first), so it can never be a number, a
// boolean, an indicator or hold ": " or " #".
bool is_safe_plain(const std::string& s) {
  if (s.empty() || is_reserved_word(s) || looks_numeric(s) || s[0] == '-') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '@' ||
          c == '-' || c == ' '))
      return false;
  return s.back() != ' ' && s.front() != ' ';
}

}  // namespace

std::string yaml_quote(const std::string& text) {
  if (is_safe_plain(text)) return text;
  if (text.find_first_of("\n\t\r") != std::string::npos) {
    // Single quotes would fold a line break into a space: double quotes with escapes keep it.
    std::string out = "\"";
    for (char c : text) {
      if (c == '\n')
        out += "\\n";
      else if (c == '\t')
        out += "\\t";
      else if (c == '\r')
        out += "\\r";
      else if (c == '"' || c == '\\')
        out += std::string("\\") + c;
      else
        out += c;
    }
    return out + "\"";
  }
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

Yaml Yaml::str(std::string text) {
  Yaml y;
  y.text_ = yaml_quote(text);
  return y;
}

Yaml Yaml::raw(std::string text) {
  Yaml y;
  y.text_ = std::move(text);
  return y;
}

Yaml Yaml::block(std::string text) {
  Yaml y;
  y.kind_ = Kind::kBlock;
  if (!text.empty() && text.back() != '\n') text += '\n';
  y.text_ = std::move(text);
  return y;
}

Yaml Yaml::map() {
  Yaml y;
  y.kind_ = Kind::kMap;
  return y;
}

Yaml Yaml::list() {
  Yaml y;
  y.kind_ = Kind::kList;
  return y;
}

Yaml Yaml::strings(const std::vector<std::string>& items) {
  Yaml y = list();
  for (const auto& s : items) y.add(str(s));
  return y;
}

Yaml& Yaml::set(std::string key, Yaml value) {
  entries_.emplace_back(std::move(key), std::move(value));
  return *this;
}

Yaml& Yaml::add(Yaml value) {
  items_.push_back(std::move(value));
  return *this;
}

// What follows "key:" (or "- "): a scalar on the same line, else a newline and the nested lines.
void Yaml::emit_after_key(std::string& out, int indent) const {
  switch (kind_) {
    case Kind::kScalar:
      out += " " + text_ + "\n";
      return;
    case Kind::kBlock: {
      out += " |\n";
      std::string pad(indent + 2, ' ');
      size_t start = 0;
      while (start < text_.size()) {
        size_t end = text_.find('\n', start);
        std::string line = text_.substr(start, end - start);
        out += line.empty() ? "\n" : pad + line + "\n";
        start = end + 1;
      }
      return;
    }
    case Kind::kMap:
    case Kind::kList:
      if (empty()) {
        out += kind_ == Kind::kMap ? " {}\n" : " []\n";
        return;
      }
      out += "\n";
      emit(out, indent + 2);
      return;
  }
}

void Yaml::emit(std::string& out, int indent) const {
  std::string pad(indent, ' ');
  if (kind_ == Kind::kMap) {
    for (const auto& [key, value] : entries_) {
      out += pad + yaml_quote(key) + ":";
      value.emit_after_key(out, indent);
    }
    return;
  }
  if (kind_ == Kind::kList) {
    for (const auto& item : items_) {
      if (item.kind_ != Kind::kMap || item.empty()) {
        out += pad + "-";
        item.emit_after_key(out, indent);
        continue;
      }
      // A map item starts on the dash line: "- key: value", its other keys aligned under it.
      std::string nested;
      item.emit(nested, indent + 2);
      out += pad + "- " + nested.substr(indent + 2);
    }
    return;
  }
  out += pad + text_ + "\n";
}

std::string Yaml::dump() const {
  std::string out;
  emit(out, 0);
  return out;
}

}  // namespace villager::ci
