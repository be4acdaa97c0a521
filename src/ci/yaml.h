#pragma once
// Yaml: a value tree (scalar, literal block, map, list) that prints as block-style YAML in the order it
// was built, so the same tree always gives the same bytes. Strings are quoted whenever a plain scalar
// could be read as something else (a number, a boolean, a key, a comment), so what a consumer parses is
// exactly the string put in. Internal to the ci module.

#include <string>
#include <utility>
#include <vector>

namespace villager::ci {

class Yaml {
 public:
  static Yaml str(std::string text);    // a string, quoted when needed
  static Yaml raw(std::string text);    // printed as is: true, 30, a bare key-like word
  static Yaml block(std::string text);  // a literal block (`|`), for shell scripts
  static Yaml map();
  static Yaml list();
  static Yaml strings(const std::vector<std::string>& items);  // a list of str()

  // Map: appends key -> value (keys keep insertion order). List: appends an item.
  Yaml& set(std::string key, Yaml value);
  Yaml& set(std::string key, std::string text) { return set(std::move(key), str(std::move(text))); }
  Yaml& add(Yaml value);
  bool empty() const { return entries_.empty() && items_.empty(); }

  // The document; a top-level map prints one key per line at column 0.
  std::string dump() const;

 private:
  enum class Kind { kScalar, kBlock, kMap, kList };
  void emit(std::string& out, int indent) const;
  void emit_after_key(std::string& out, int indent) const;
  Kind kind_ = Kind::kScalar;
  std::string text_;
  std::vector<std::pair<std::string, Yaml>> entries_;
  std::vector<Yaml> items_;
};

// Single-quotes `text` unless it is a safe plain scalar.
std::string yaml_quote(const std::string& text);

}  // namespace villager::ci
