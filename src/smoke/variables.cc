#include "smoke/variables.h"

#include "base/strings.h"

namespace villager::smoke {

Result<std::string> expand_variables(const std::string& text, const VariableScope& scope) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string::npos) return InvalidArgument("unclosed '${' in '" + text + "'");
    std::string name = text.substr(i + 2, close - i - 2);
    if (name == "VERSION") {
      if (scope.version.empty())
        return InvalidArgument("${VERSION} is not known (no version_file or release)");
      out += scope.version;
    } else if (starts_with(name, "secret:")) {
      std::string secret_name = name.substr(7);
      auto v = scope.secret ? scope.secret(secret_name) : std::nullopt;
      if (!v) return NotFound("secret " + secret_name + " is not available");
      out += *v;
    } else if (scope.captured && scope.captured->count(name)) {
      out += scope.captured->at(name);
    } else {
      return NotFound("unknown variable ${" + name + "} (not captured by an earlier check)");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace villager::smoke
