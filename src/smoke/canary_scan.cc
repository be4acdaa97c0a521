#include "smoke/canary_scan.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>

#include "base/strings.h"
#include "net/url.h"

namespace villager::smoke {

namespace {

constexpr size_t kMinFormBytes = 4;
constexpr size_t kMaskRevealMin = 12;  // shorter values are masked completely

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string strip_padding(std::string s) {
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

}  // namespace

std::vector<EncodedForm> encoded_forms(const std::string& value) {
  if (value.size() < kMinFormBytes) return {};
  std::vector<EncodedForm> candidates = {
      {"raw", value},
      {"hex", hex_encode(value)},
      {"HEX", upper(hex_encode(value))},
      {"base64", base64_encode(value)},
      {"base64", strip_padding(base64_encode(value))},
      {"base64url", base64url_encode(value)},
      {"percent", net::percent_encode(value)},
      {"percent", net::percent_encode_lower(value)},
      {"json", quote(value).substr(1, quote(value).size() - 2)},
  };
  std::vector<EncodedForm> out;
  std::set<std::string> seen;
  for (auto& c : candidates)
    if (c.bytes.size() >= kMinFormBytes && seen.insert(c.bytes).second) out.push_back(std::move(c));
  return out;
}

std::string mask_value(const std::string& value) {
  if (value.size() < kMaskRevealMin) return "***";
  std::string head = value.substr(0, 2);
  for (char& c : head)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return head + "***";
}

namespace {

struct Needle {
  const Canary* canary;
  EncodedForm form;
};

std::vector<Needle> needles_for(const std::vector<Canary>& canaries) {
  std::vector<Needle> needles;
  for (const auto& c : canaries)
    for (auto& f : encoded_forms(c.value)) needles.push_back({&c, std::move(f)});
  return needles;
}

// Every needle in `data`, hits sorted by offset, appended to `s` under `name`.
void scan_data(const std::string& name, std::string_view data, const std::vector<Needle>& needles,
               ScanSummary& s) {
  ++s.files;
  s.bytes += data.size();
  std::vector<ScanHit> hits;
  for (const auto& n : needles) {
    std::boyer_moore_horspool_searcher searcher(n.form.bytes.begin(), n.form.bytes.end());
    auto it = data.cbegin();
    while (true) {
      auto found = std::search(it, data.cend(), searcher);
      if (found == data.cend()) break;
      uint64_t off = static_cast<uint64_t>(found - data.cbegin());
      // One value can match as several forms at one place (raw == percent for plain text).
      bool dup = std::any_of(hits.begin(), hits.end(),
                             [&](const ScanHit& h) { return h.offset == off && h.canary == n.canary->name; });
      if (!dup) hits.push_back({name, off, n.canary->name, n.form.form, mask_value(n.canary->value)});
      it = found + 1;
    }
  }
  std::sort(hits.begin(), hits.end(), [](const ScanHit& a, const ScanHit& b) { return a.offset < b.offset; });
  s.hits.insert(s.hits.end(), hits.begin(), hits.end());
}

}  // namespace

ScanSummary scan_sources_for_canaries(const std::vector<ScanSource>& sources,
                                      const std::vector<Canary>& canaries) {
  auto needles = needles_for(canaries);
  ScanSummary s;
  for (const auto& src : sources) {
    std::string_view data = src.bytes;
    if (data.size() > kMaxScanBytesPerFile) {
      data = data.substr(0, kMaxScanBytesPerFile);
      s.truncated.push_back(src.name);
    }
    scan_data(src.name, data, needles, s);
  }
  return s;
}

Result<ScanSummary> scan_for_canaries(const std::vector<std::filesystem::path>& roots,
                                      const std::vector<Canary>& canaries) {
  auto needles = needles_for(canaries);
  ScanSummary s;
  auto scan_file = [&](const std::filesystem::path& p) -> Status {
    std::ifstream in(p, std::ios::binary);
    if (!in) return PermissionDenied("scanning " + p.string() + ": cannot open");
    std::error_code ec;
    uint64_t size = std::filesystem::file_size(p, ec);
    if (ec) return PermissionDenied("scanning " + p.string() + ": " + ec.message());
    if (size > kMaxScanBytesPerFile) {
      size = kMaxScanBytesPerFile;
      s.truncated.push_back(p.string());
    }
    std::string data(size, '\0');
    in.read(data.data(), static_cast<std::streamsize>(size));
    data.resize(static_cast<size_t>(in.gcount()));
    scan_data(p.string(), data, needles, s);
    return Ok();
  };

  for (const auto& root : roots) {
    std::error_code ec;
    auto st = std::filesystem::status(root, ec);
    if (ec || !std::filesystem::exists(st)) {
      s.missing.push_back(root.string());
      continue;
    }
    if (std::filesystem::is_regular_file(st)) {
      VILLAGER_RETURN_IF_ERROR(scan_file(root));
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (auto it = std::filesystem::recursive_directory_iterator(
             root, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    if (ec) return Internal("scanning " + root.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) VILLAGER_RETURN_IF_ERROR(scan_file(f));
  }
  return s;
}

}  // namespace villager::smoke
