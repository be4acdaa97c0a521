#pragma once
// TomlReader: typed, strict access to toml++ tables that records every problem with its file:line:col
// instead of stopping at the first. Section parsers (config.cc) use it; nothing outside config sees toml++.

#include <toml++/toml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"

namespace villager::config {

class TomlReader {
 public:
  explicit TomlReader(std::filesystem::path file) : file_(std::move(file)) {}

  void error(const toml::source_region& where, const std::string& message);
  void error_at(const toml::node& node, const std::string& message) { error(node.source(), message); }
  const std::vector<std::string>& errors() const { return errors_; }
  // Something that still works but should change: "file:line:col: message", kept apart from errors.
  void warn(const toml::source_region& where, const std::string& message);
  const std::vector<std::string>& warnings() const { return warnings_; }
  // A key or habit on its way out, "file:line:col: message"; only `villager config check` prints these.
  void deprecate(const toml::source_region& where, const std::string& message);
  const std::vector<std::string>& deprecations() const { return deprecations_; }

  // Reports every key of `t` not in `allowed`, with a did-you-mean. `where` names the table ("[smoke]").
  void check_keys(const toml::table& t, const std::string& where, const std::vector<std::string>& allowed);

  // Each getter leaves `out` untouched when the key is absent; a wrong type is recorded as an error.
  // `required` records "missing key" at the table's position.
  void get(const toml::table& t, const std::string& key, std::string& out, bool required = false);
  void get(const toml::table& t, const std::string& key, bool& out);
  void get(const toml::table& t, const std::string& key, int& out, int min, int max);
  void get(const toml::table& t, const std::string& key, size_t& out, size_t min, size_t max);
  void get(const toml::table& t, const std::string& key, double& out);
  void get(const toml::table& t, const std::string& key, std::vector<std::string>& out,
           bool required = false);
  void get(const toml::table& t, const std::string& key, std::vector<int>& out);
  void get_duration(const toml::table& t, const std::string& key, Millis& out);
  void get_host_port(const toml::table& t, const std::string& key, HostPort& out);
  // A table of string values, e.g. `env = { A = "b" }`.
  void get(const toml::table& t, const std::string& key, std::map<std::string, std::string>& out);

  // Position of a key's value (or of the table when absent), for cross-reference errors.
  toml::source_region where(const toml::table& t, const std::string& key) const;

 private:
  std::string type_name(const toml::node& n) const;
  std::filesystem::path file_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
  std::vector<std::string> deprecations_;
};

// A name villager.toml may use for an environment, a host, a role: 1-64 letters, digits, - and _.
bool valid_name(const std::string& s);

}  // namespace villager::config
