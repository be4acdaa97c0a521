#pragma once
// A small, strict flag parser shared by every command: known flags only (an unknown one gets a
// "did you mean"), `--flag value` or `--flag=value`, repeated flags, positionals, and `--` to stop.

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::cli {

struct FlagSpec {
  std::string name;  // long name without dashes: "json"
  bool takes_value = false;
  char short_name = 0;  // optional: 'c' for -c
};

class Args {
 public:
  // Parses argv (the words after the command name). `--help`/`-h` are always accepted.
  static Result<Args> parse(const std::vector<std::string>& argv, std::initializer_list<FlagSpec> flags);

  bool help() const { return has("help"); }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given for a flag, or `fallback`.
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> get_all(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

}  // namespace villager::cli
