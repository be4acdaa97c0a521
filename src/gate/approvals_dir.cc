#include "gate/approvals_dir.h"

#include <algorithm>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"

namespace villager::gate {

std::filesystem::path approval_path(const std::filesystem::path& approvals_dir, const Approval& a) {
  return approvals_dir / std::string(a.digest.hex()) /
         (a.environment + "__" + a.role + "__" + a.signer + ".json");
}

Result<std::filesystem::path> write_approval(const std::filesystem::path& approvals_dir,
                                             const SignedApproval& s) {
  auto canonical = canonical_payload(s.approval);
  if (!canonical) return canonical.error();
  auto path = approval_path(approvals_dir, s.approval);
  if (auto st = ensure_dir(path.parent_path()); !st.ok()) return st.error().context("writing approval");
  if (auto st = write_file_atomic(path, approval_file_text(s, *canonical), fs::perms(0644)); !st.ok())
    return st.error().context("writing approval " + path.string());
  return path;
}

Result<std::vector<StoredApproval>> list_approvals(const std::filesystem::path& approvals_dir,
                                                   const Digest& digest) {
  std::vector<StoredApproval> out;
  std::vector<std::filesystem::path> dirs;
  std::error_code ec;
  if (!digest.empty()) {
    dirs.push_back(approvals_dir / std::string(digest.hex()));
  } else {
    if (!std::filesystem::is_directory(approvals_dir, ec)) return out;
    for (const auto& e : std::filesystem::directory_iterator(approvals_dir, ec))
      if (e.is_directory(ec)) dirs.push_back(e.path());
    if (ec) return Internal("listing approvals in " + approvals_dir.string() + ": " + ec.message());
  }
  for (const auto& dir : dirs) {
    if (!std::filesystem::is_directory(dir, ec)) continue;
    const Digest dir_digest = Digest::from_hex(dir.filename().string()).value_or(Digest());
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (!e.is_regular_file(ec) || e.path().extension() != ".json") continue;
      StoredApproval sa;
      sa.path = e.path();
      sa.dir_digest = dir_digest;
      std::string stem = e.path().stem().string();
      if (auto pos = stem.find("__"); pos != std::string::npos) sa.file_env = stem.substr(0, pos);
      // Refuse an oversize file unread: the folder may hold files carried in from elsewhere.
      auto size = std::filesystem::file_size(e.path(), ec);
      if (ec || size > kMaxApprovalBytes) {
        sa.parse_error = "approval " + e.path().string() + ": " +
                         (ec ? ec.message() : "larger than " + std::to_string(kMaxApprovalBytes) + " bytes");
        ec.clear();
        out.push_back(std::move(sa));
        continue;
      }
      auto text = read_file(e.path());
      if (!text) {
        sa.parse_error = text.error().message;
      } else if (auto p = parse_approval(*text, e.path().string()); p) {
        sa.parsed = std::move(*p);
      } else {
        sa.parse_error = p.error().message;
      }
      out.push_back(std::move(sa));
    }
    if (ec) return Internal("listing approvals in " + dir.string() + ": " + ec.message());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

}  // namespace villager::gate
