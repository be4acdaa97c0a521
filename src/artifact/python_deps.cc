#include "artifact/python_deps.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/fs.h"
#include "base/hash.h"
#include "base/strings.h"

namespace villager::artifact {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDistInfo = ".dist-info";
constexpr std::string_view kEggInfo = ".egg-info";

constexpr std::string_view kNameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

bool only_of(std::string_view s, std::string_view chars) {
  return !s.empty() && s.find_first_not_of(chars) == std::string_view::npos;
}

bool is_meta_name(std::string_view name) {
  return ends_with(name, kDistInfo) || ends_with(name, kEggInfo);
}

// The packer leaves bytecode out, so a distribution's hash must too.
bool is_bytecode(std::string_view rel) {
  return rel.find("__pycache__/") != std::string_view::npos || ends_with(rel, ".pyc") ||
         ends_with(rel, ".pyo");
}

// A path from RECORD that stays inside the folder ("../../bin/x" does not).
bool inside(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  for (const auto& part : split(std::string(rel), '/'))
    if (part == "..") return false;
  return true;
}

// The distribution a metadata folder names, from "Name-1.0.dist-info" / "Name.egg-info".
std::string meta_distribution(std::string_view meta_name) {
  std::string_view stem = meta_name.substr(0, meta_name.rfind('.'));
  return normalize_distribution_name(stem.substr(0, stem.find('-')));
}

// The first field of a RECORD line (CSV: a quoted field doubles its quotes).
std::string record_path(std::string_view line) {
  if (line.empty() || line.front() != '"') return std::string(line.substr(0, line.find(',')));
  std::string out;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] != '"') {
      out += line[i];
    } else if (i + 1 < line.size() && line[i + 1] == '"') {
      out += '"';
      ++i;
    } else {
      break;
    }
  }
  return out;
}

// Regular files under dir/rel, as paths relative to dir, bytecode left out.
Status add_tree(const fs::path& dir, const std::string& rel, std::set<std::string>& files) {
  auto listed = list_files(dir / rel);
  if (!listed) return listed.error();
  for (const auto& f : *listed)
    if (!is_bytecode(f)) files.insert(rel + "/" + f);
  return Ok();
}

Result<Distribution> read_distribution(const fs::path& dir, const std::string& meta_name) {
  Distribution d;
  d.meta_dir = meta_name;
  const fs::path meta = dir / meta_name;
  std::error_code ec;
  bool egg = ends_with(meta_name, kEggInfo);
  if (egg && fs::is_regular_file(meta, ec))
    return InvalidArgument(meta.string() +
                           " is a single file: it does not say which files the distribution owns (vendor it "
                           "from a wheel instead)");
  fs::path headers = meta / (egg ? "PKG-INFO" : "METADATA");
  auto text = read_file(headers);
  if (!text) return text.error();
  for (const auto& line : split(*text, '\n')) {
    std::string_view l = trim(line);
    if (l.empty()) break;  // the headers end at the first blank line
    if (starts_with(l, "Name:") && d.name.empty()) d.name = std::string(trim(l.substr(5)));
    if (starts_with(l, "Version:") && d.version.empty()) d.version = std::string(trim(l.substr(8)));
  }
  if (d.name.empty() || d.version.empty())
    return InvalidArgument(headers.string() + ": no Name: and Version: header");

  // The metadata folder's own files belong to the distribution whether RECORD lists them or not.
  std::set<std::string> files;
  if (auto s = add_tree(dir, meta_name, files); !s.ok()) return s.error();
  if (!egg) {
    auto record = read_file(meta / "RECORD");
    if (!record) return record.error().context(meta_name + " has no RECORD");
    for (const auto& line : split(*record, '\n')) {
      std::string rel = record_path(trim(line));
      if (!inside(rel) || is_bytecode(rel)) continue;
      if (fs::is_regular_file(dir / rel, ec)) files.insert(fs::path(rel).lexically_normal().generic_string());
    }
  } else {
    auto top = read_file(meta / "top_level.txt");
    if (!top) return top.error().context(meta_name + " has no top_level.txt (the modules it installs)");
    for (const auto& line : split(*top, '\n')) {
      std::string module(trim(line));
      if (module.empty()) continue;
      if (!inside(module))
        return InvalidArgument((meta / "top_level.txt").string() + ": bad module '" + module + "'");
      if (fs::is_directory(dir / module, ec)) {
        if (auto s = add_tree(dir, module, files); !s.ok()) return s.error();
      }
      if (fs::is_regular_file(dir / (module + ".py"), ec)) files.insert(module + ".py");
      fs::path parent = (dir / module).parent_path();
      std::string base = fs::path(module).filename().string();
      for (const auto& e : fs::directory_iterator(parent, ec)) {
        std::string n = e.path().filename().string();
        if (e.is_regular_file(ec) && starts_with(n, base + ".") && ends_with(n, ".so"))
          files.insert(fs::relative(e.path(), dir).generic_string());
      }
    }
  }
  d.files.assign(files.begin(), files.end());
  return d;
}

}  // namespace

std::string normalize_distribution_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (out.empty() || out.back() != '-') out += '-';
    } else {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
  return out;
}

Result<std::vector<Requirement>> parse_pinned_requirements(std::string_view text, const std::string& source) {
  std::vector<Requirement> out;
  std::vector<std::string> errors;
  std::map<std::string, int> seen;
  int n = 0;
  for (const auto& raw : split(std::string(text), '\n')) {
    ++n;
    std::string_view line = trim(raw);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = trim(line.substr(0, hash));
    if (line.empty()) continue;
    std::string where = source + ":" + std::to_string(n) + ": ";
    Requirement r{std::string(line), "", n};
    auto eq = line.find("==");
    if (eq != std::string_view::npos) {
      r.name = std::string(trim(line.substr(0, eq)));
      r.version = std::string(trim(line.substr(eq + 2)));
    }
    // PEP 508 names; versions may also hold '+' (local) and '!' (epoch).
    if (!only_of(r.name, kNameChars) ||
        (eq != std::string_view::npos && !only_of(r.version, std::string(kNameChars) + "+!"))) {
      errors.push_back(where + "'" + std::string(line) +
                       "': the system source takes one `name` or `name==version` per line");
      continue;
    }
    std::string key = normalize_distribution_name(r.name);
    if (auto [it, fresh] = seen.emplace(key, n); !fresh) {
      errors.push_back(where + "'" + r.name + "' is listed again (first on line " +
                       std::to_string(it->second) + ")");
      continue;
    }
    out.push_back(std::move(r));
  }
  if (!errors.empty()) return InvalidArgument(join(errors, "\n"));
  return out;
}

Result<std::vector<Distribution>> find_distributions(const fs::path& dir) {
  std::vector<Distribution> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<std::string> metas;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (is_meta_name(e.path().filename().string())) metas.push_back(e.path().filename().string());
  if (ec) return Internal("listing " + dir.string() + ": " + ec.message());
  for (const auto& meta : metas) {
    auto d = read_distribution(dir, meta);
    if (!d) return d.error();
    out.push_back(std::move(*d));
  }
  std::sort(out.begin(), out.end(), [](const Distribution& a, const Distribution& b) {
    return normalize_distribution_name(a.name) < normalize_distribution_name(b.name);
  });
  return out;
}

Result<std::vector<PythonDep>> list_python_deps(const fs::path& dir) {
  auto dists = find_distributions(dir);
  if (!dists) return dists.error();
  std::vector<PythonDep> out;
  for (const auto& d : *dists) {
    std::string lines;
    for (const auto& f : d.files) {
      auto hex = sha256_file_hex(dir / f);
      if (!hex) return hex.error().context("hashing " + d.name);
      lines += *hex + "  " + f + "\n";
    }
    out.push_back({d.name, d.version, sha256_hex(lines), d.files.size()});
  }
  return out;
}

Status copy_installed_distributions(const std::vector<Requirement>& requirements, const fs::path& site_dir,
                                    const fs::path& target, const std::string& source) {
  std::error_code ec;
  std::vector<std::string> metas;
  for (const auto& e : fs::directory_iterator(site_dir, ec))
    if (is_meta_name(e.path().filename().string())) metas.push_back(e.path().filename().string());
  if (ec) return NotFound("listing " + site_dir.string() + ": " + ec.message());
  std::sort(metas.begin(), metas.end());

  std::vector<std::string> errors;
  std::vector<Distribution> chosen;
  for (const auto& r : requirements) {
    std::string where = source + ":" + std::to_string(r.line) + ": ";
    std::string key = normalize_distribution_name(r.name);
    auto meta = std::find_if(metas.begin(), metas.end(),
                             [&](const std::string& m) { return meta_distribution(m) == key; });
    if (meta == metas.end()) {
      errors.push_back(where + "'" + r.name + "' is not installed in " + site_dir.string());
      continue;
    }
    auto d = read_distribution(site_dir, *meta);
    if (!d) {
      errors.push_back(where + d.error().message);
      continue;
    }
    if (!r.version.empty() && d->version != r.version) {
      errors.push_back(where + "'" + r.name + "==" + r.version + "' is pinned, but " + site_dir.string() +
                       " has " + d->version);
      continue;
    }
    chosen.push_back(std::move(*d));
  }
  if (!errors.empty()) return FailedPrecondition(join(errors, "\n"));

  for (const auto& d : chosen) {
    for (const auto& f : d.files) {
      fs::path to = target / f;
      if (auto s = ensure_dir(to.parent_path()); !s.ok()) return s;
      auto perms = fs::status(site_dir / f, ec).permissions();
      if (ec || !fs::copy_file(site_dir / f, to, fs::copy_options::overwrite_existing, ec))
        return Internal("copying " + (site_dir / f).string() + " to " + to.string() + ": " + ec.message());
      bool exec = (perms & fs::perms::owner_exec) != fs::perms::none;
      fs::permissions(to, exec ? fs::perms(0755) : fs::perms(0644), ec);
    }
  }
  return Ok();
}

}  // namespace villager::artifact
