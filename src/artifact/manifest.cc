#include "artifact/manifest.h"

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/hash.h"

namespace villager::artifact {

std::filesystem::path artifact_zip_path(const std::filesystem::path& store_dir, const Digest& digest) {
  return store_dir / "sha256" / (std::string(digest.hex()) + ".zip");
}

std::filesystem::path artifact_manifest_path(const std::filesystem::path& store_dir, const Digest& digest) {
  return store_dir / "sha256" / (std::string(digest.hex()) + ".json");
}

std::string manifest_to_json(const Manifest& m) {
  nlohmann::ordered_json j;
  j["digest"] = m.digest.full();
  j["service"] = m.service;
  j["version"] = m.version;
  j["git_commit"] = m.git_commit;
  j["git_dirty"] = m.git_dirty;
  j["created_at"] = m.created_at;
  j["mtime"] = m.mtime;
  j["zip_size"] = m.zip_size;
  j["files"] = nlohmann::ordered_json::array();
  for (const auto& f : m.files)
    j["files"].push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}, {"mode", f.mode}});
  if (m.build) {
    const BuildRecord& b = *m.build;
    nlohmann::ordered_json build;
    build["command"] = b.command;
    build["env"] = b.env;
    build["exit_code"] = b.exit_code;
    build["duration_ms"] = b.duration_ms;
    build["output_tail"] = b.output_tail;
    build["tools"] = nlohmann::ordered_json::array();
    for (const auto& t : b.tools) build["tools"].push_back({{"command", t.command}, {"version", t.version}});
    j["build"] = build;
  }
  if (!m.python_deps.empty()) {
    j["python_deps"] = nlohmann::ordered_json::array();
    for (const auto& d : m.python_deps)
      j["python_deps"].push_back(
          {{"name", d.name}, {"version", d.version}, {"sha256", d.sha256}, {"files", d.files}});
  }
  return j.dump(2) + "\n";
}

Result<Manifest> parse_manifest(const std::string& text, const std::string& source) {
  try {
    auto j = nlohmann::json::parse(text);
    Manifest m;
    auto digest = Digest::parse(j.at("digest").get<std::string>());
    if (!digest) return digest.error().context("reading manifest " + source);
    m.digest = std::move(*digest);
    m.service = j.at("service").get<std::string>();
    m.version = j.at("version").get<std::string>();
    m.git_commit = j.at("git_commit").get<std::string>();
    m.git_dirty = j.at("git_dirty").get<bool>();
    m.created_at = j.value("created_at", "");
    m.mtime = j.value("mtime", int64_t{0});
    m.zip_size = j.value("zip_size", uint64_t{0});
    for (const auto& f : j.at("files")) {
      m.files.push_back({f.at("path").get<std::string>(), f.at("sha256").get<std::string>(),
                         f.at("size").get<uint64_t>(), f.at("mode").get<uint32_t>()});
    }
    if (j.contains("build")) {
      const auto& b = j.at("build");
      BuildRecord build;
      build.command = b.at("command").get<std::vector<std::string>>();
      build.env = b.value("env", std::map<std::string, std::string>{});
      build.exit_code = b.at("exit_code").get<int>();
      build.duration_ms = b.value("duration_ms", int64_t{0});
      build.output_tail = b.value("output_tail", "");
      for (const auto& t : b.value("tools", nlohmann::json::array()))
        build.tools.push_back({t.at("command").get<std::string>(), t.at("version").get<std::string>()});
      m.build = std::move(build);
    }
    for (const auto& d : j.value("python_deps", nlohmann::json::array()))
      m.python_deps.push_back({d.at("name").get<std::string>(), d.at("version").get<std::string>(),
                               d.at("sha256").get<std::string>(), d.value("files", size_t{0})});
    return m;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("reading manifest " + source + ": " + e.what());
  }
}

Result<Manifest> read_manifest(const std::filesystem::path& store_dir, const Digest& digest) {
  if (digest.empty()) return InvalidArgument("reading manifest: no digest");
  auto path = artifact_manifest_path(store_dir, digest);
  auto text = read_file(path);
  if (!text) return text.error().context("reading manifest of " + digest.full());
  return parse_manifest(*text, path.string());
}

Status verify_artifact(const std::filesystem::path& store_dir, const Digest& digest) {
  if (digest.empty()) return InvalidArgument("verifying artifact: no digest");
  const std::string what = "verifying artifact " + digest.full();
  auto zip = artifact_zip_path(store_dir, digest);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(zip, ec))
    return NotFound(what + ": " + zip.string() + " does not exist");
  auto actual = Digest::of_file(zip);
  if (!actual) return actual.error().context(what);
  if (*actual != digest)
    return Conflict(what + ": " + zip.string() + " is tampered: its bytes hash to " + actual->full());
  auto m = read_manifest(store_dir, digest);
  if (!m) return m.error().context("verifying artifact");
  if (m->digest != digest)
    return Conflict(what + ": its manifest names " + m->digest.full() + " (tampered manifest)");
  return Ok();
}

Result<Manifest> read_manifest(const std::filesystem::path& store_dir, std::string_view digest) {
  auto d = Digest::parse(digest);
  if (!d) return d.error();
  return read_manifest(store_dir, *d);
}

Status verify_artifact(const std::filesystem::path& store_dir, std::string_view digest) {
  auto d = Digest::parse(digest);
  if (!d) return d.error().context("verifying artifact");
  return verify_artifact(store_dir, *d);
}

}  // namespace villager::artifact
