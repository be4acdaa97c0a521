#include "base/redact.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <vector>

#include "base/strings.h"

namespace villager {

namespace {
struct Registry {
  std::shared_mutex mu;
  std::set<std::string> raw;       // Guarded by mu.
  std::vector<std::string> forms;  // Guarded by mu; longest first so a longer form masks whole.
};
Registry& registry() {
  static Registry r;
  return r;
}
constexpr size_t kMinSecretLength = 4;
}  // namespace

void register_secret(std::string_view value) {
  if (value.size() < kMinSecretLength) return;
  auto& r = registry();
  std::unique_lock lock(r.mu);
  if (!r.raw.insert(std::string(value)).second) return;
  for (auto form : {std::string(value), hex_encode(value), base64_encode(value), base64url_encode(value)}) {
    if (form.size() >= kMinSecretLength && std::find(r.forms.begin(), r.forms.end(), form) == r.forms.end())
      r.forms.push_back(form);
  }
  std::sort(r.forms.begin(), r.forms.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string redact(std::string_view text) {
  auto& r = registry();
  std::shared_lock lock(r.mu);
  std::string out(text);
  for (const auto& f : r.forms) out = replace_all(std::move(out), f, "***");
  return out;
}

void clear_secrets_for_test() {
  auto& r = registry();
  std::unique_lock lock(r.mu);
  r.raw.clear();
  r.forms.clear();
}

}  // namespace villager
