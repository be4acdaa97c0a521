#include "secrets/dotenv.h"

#include <map>

#include "base/strings.h"
#include "secrets/secret_file.h"

namespace villager::secrets {

namespace {

// Parses the value part (after '='); on error returns a message that never quotes the value.
Result<std::string> parse_value(std::string_view v) {
  v = trim(v);
  if (v.empty()) return std::string();
  char q = v[0];
  if (q == '\'' || q == '"') {
    std::string out;
    size_t i = 1;
    bool closed = false;
    for (; i < v.size(); ++i) {
      char c = v[i];
      if (c == q) {
        closed = true;
        ++i;
        break;
      }
      if (q == '"' && c == '\\') {
        if (i + 1 >= v.size()) break;
        char e = v[++i];
        switch (e) {
          case 'n':
            out.push_back('\n');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '$':
            out.push_back('$');
            break;
          default:
            return InvalidArgument(std::string("unknown escape \\") + e + " in a double-quoted value");
        }
        continue;
      }
      out.push_back(c);
    }
    if (!closed)
      return InvalidArgument(std::string("unterminated ") + (q == '"' ? "double" : "single") +
                             "-quoted value");
    std::string_view rest = trim(v.substr(i));
    if (!rest.empty() && rest[0] != '#') return InvalidArgument("text after the closing quote");
    return out;
  }
  size_t hash = v.find(" #");
  if (hash == std::string_view::npos) hash = v.find("\t#");
  if (hash != std::string_view::npos) v = trim(v.substr(0, hash));
  if (v.find_first_of("'\"") != std::string_view::npos) return InvalidArgument("a quote inside a bare value");
  return std::string(v);
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parse_dotenv(std::string_view text,
                                                                      const std::string& label) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> problems;
  std::map<std::string, size_t> first_line;
  auto lines = split(text, '\n');
  for (size_t n = 1; n <= lines.size(); ++n) {
    std::string_view line = lines[n - 1];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::string where = label + ":" + std::to_string(n);
    if (starts_with(t, "export ") || starts_with(t, "export\t")) t = trim(t.substr(7));
    size_t eq = t.find('=');
    if (eq == std::string_view::npos) {
      problems.push_back(where + ": expected KEY=VALUE");
      continue;
    }
    std::string key(trim(t.substr(0, eq)));
    if (!valid_secret_name(key)) {
      problems.push_back(where + ": bad name (letters, digits and _, not starting with a digit)");
      continue;
    }
    auto value = parse_value(t.substr(eq + 1));
    if (!value) {
      problems.push_back(where + " (" + key + "): " + value.error().message);
      continue;
    }
    if (value->empty()) {
      problems.push_back(where + " (" + key + "): empty value");
      continue;
    }
    if (auto [it, fresh] = first_line.emplace(key, n); !fresh) {
      problems.push_back(where + " (" + key + "): repeated (first on line " + std::to_string(it->second) +
                         ")");
      continue;
    }
    out.emplace_back(std::move(key), std::move(*value));
  }
  if (!problems.empty()) return InvalidArgument(join(problems, "\n"));
  return out;
}

}  // namespace villager::secrets
