#include "cli/args.h"

#include "base/strings.h"

namespace villager::cli {

Result<Args> Args::parse(const std::vector<std::string>& argv, std::initializer_list<FlagSpec> flags) {
  std::vector<FlagSpec> specs(flags);
  specs.push_back({"help", false, 'h'});
  Args a;
  bool only_positionals = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& w = argv[i];
    if (only_positionals || w.size() < 2 || w[0] != '-') {
      a.positionals_.push_back(w);
      continue;
    }
    if (w == "--") {
      only_positionals = true;
      continue;
    }
    std::string name, value;
    bool has_inline = false;
    const FlagSpec* spec = nullptr;
    if (w[1] == '-') {
      name = w.substr(2);
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_inline = true;
      }
      for (const auto& s : specs)
        if (s.name == name) spec = &s;
    } else {
      for (const auto& s : specs)
        if (s.short_name && s.short_name == w[1]) spec = &s;
      name = w.substr(0, 2);
      // "-t2" is "-t 2" for an option that takes a value; flags do not bundle ("-hv" is an error).
      if (w.size() > 2) {
        if (!spec || !spec->takes_value) return InvalidArgument("unknown option '" + w + "'");
        value = w.substr(2);
        has_inline = true;
      }
    }
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& s : specs) names.push_back(s.name);
      std::string hint = suggest(name, names);
      return InvalidArgument("unknown option '" + w + "'" +
                             (hint.empty() ? "" : " (did you mean '--" + hint + "'?)"));
    }
    if (spec->takes_value) {
      if (!has_inline) {
        if (i + 1 >= argv.size()) return InvalidArgument("option '--" + spec->name + "' needs a value");
        value = argv[++i];
      }
    } else if (has_inline) {
      return InvalidArgument("option '--" + spec->name + "' takes no value");
    }
    a.values_[spec->name].push_back(value);
  }
  return a;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> Args::get_all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace villager::cli
