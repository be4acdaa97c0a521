#include "ci/line_diff.h"

#include <vector>

#include "base/strings.h"

namespace villager::ci {

namespace {

struct Op {
  char kind;  // ' ', '-', '+'
  std::string line;
  size_t after_line;  // 1-based position in `after` (of the next line for '-')
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Longest common subsequence table, then a walk that lists keeps, removals and additions in order.
std::vector<Op> diff_ops(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::vector<unsigned>> lcs(a.size() + 1, std::vector<unsigned>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;)
    for (size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ops.push_back({' ', a[i++], ++j});
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back({'-', a[i++], j + 1});  // removals first, as diff(1) prints them
    } else {
      ops.push_back({'+', b[j], j + 1});
      ++j;
    }
  }
  return ops;
}

}  // namespace

std::string line_diff(const std::string& before, const std::string& after, size_t max_lines) {
  std::vector<Op> ops = diff_ops(lines_of(before), lines_of(after));
  std::vector<bool> shown(ops.size(), false);
  for (size_t k = 0; k < ops.size(); ++k)
    if (ops[k].kind != ' ')
      for (size_t c = k > 0 ? k - 1 : 0; c <= k + 1 && c < ops.size(); ++c) shown[c] = true;
  std::string out;
  size_t printed = 0, left = 0;
  for (size_t k = 0; k < ops.size(); ++k) {
    if (!shown[k]) continue;
    if (printed >= max_lines) {
      left += ops[k].kind != ' ' ? 1 : 0;
      continue;
    }
    if (k == 0 || !shown[k - 1]) out += "@@ line " + std::to_string(ops[k].after_line) + " @@\n";
    out += std::string(1, ops[k].kind) + ops[k].line + "\n";
    ++printed;
  }
  if (left > 0) out += "... (" + std::to_string(left) + " more changed lines)\n";
  return out;
}

}  // namespace villager::ci
