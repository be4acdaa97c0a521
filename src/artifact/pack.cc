#include "artifact/pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hash.h"

namespace villager::artifact {

namespace {

// The DOS date range a zip entry can hold: 1980-01-01T00:00:00Z .. 2107-12-31T23:59:58Z.
constexpr int64_t kDosEpochMin = 315532800;
constexpr int64_t kDosEpochMax = 4354819198;

struct SourceFile {
  std::string rel;  // '/'-separated
  std::filesystem::path abs;
  bool executable = false;
};

// libarchive's zip writer turns mtime into a DOS date with localtime(), so the bytes would depend on
// the host's time zone. Packing runs with TZ=UTC and puts the caller's TZ back afterwards.
class UtcTimeZone {
 public:
  UtcTimeZone() {
    const char* tz = std::getenv("TZ");
    had_ = tz != nullptr;
    if (had_) saved_ = tz;
    ::setenv("TZ", "UTC0", 1);
    ::tzset();
  }
  ~UtcTimeZone() {
    if (had_)
      ::setenv("TZ", saved_.c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

 private:
  bool had_ = false;
  std::string saved_;
};

// Python's bytecode caches are written by whoever imported the code last and hold the source's mtime,
// so they would make the zip depend on who ran what; the runtime writes its own.
bool is_bytecode_cache(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  return p.filename() == "__pycache__" || ext == ".pyc" || ext == ".pyo";
}

Status walk(const std::filesystem::path& dir, const std::string& prefix, bool reverse,
            std::vector<SourceFile>* out) {
  std::error_code ec;
  std::vector<std::filesystem::directory_entry> entries;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    entries.push_back(*it);
  if (ec) return Internal("listing " + dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end(), [reverse](const auto& a, const auto& b) {
    return reverse ? b.path() < a.path() : a.path() < b.path();
  });
  for (const auto& e : entries) {
    std::string rel = prefix + e.path().filename().string();
    if (is_bytecode_cache(e.path())) continue;
    auto st = e.symlink_status(ec);
    if (ec) return Internal("reading " + e.path().string() + ": " + ec.message());
    if (std::filesystem::is_symlink(st)) {
      auto target = std::filesystem::read_symlink(e.path(), ec);
      return InvalidArgument(
          "symlink " + rel + " -> " + target.string() +
          " is not packaged (zips for Lambda hold files); replace it with the file it points to");
    }
    if (std::filesystem::is_directory(st)) {
      VILLAGER_RETURN_IF_ERROR(walk(e.path(), rel + "/", reverse, out));
    } else if (std::filesystem::is_regular_file(st)) {
      bool exec = (st.permissions() & std::filesystem::perms::owner_exec) != std::filesystem::perms::none;
      out->push_back({rel, e.path(), exec});
    } else {
      return InvalidArgument(rel + " is not a regular file, directory or symlink (a socket, fifo or device)");
    }
  }
  return Ok();
}

// A scratch copy of `dir` whose files have mtime "now" and owner-only permissions, as if another umask
// and another checkout had produced it. Used by --check to prove neither reaches the zip.
Result<std::filesystem::path> touched_copy(const std::filesystem::path& dir) {
  auto tmp = make_temp_dir("villager-pack-check-");
  if (!tmp) return tmp.error();
  std::error_code ec;
  std::filesystem::path copy = *tmp / "tree";
  std::filesystem::copy(
      dir, copy, std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks, ec);
  if (ec) {
    std::filesystem::remove_all(*tmp, ec);
    return Internal("copying " + dir.string() + " for --check: " + ec.message());
  }
  auto now = std::filesystem::file_time_type::clock::now();
  for (auto it = std::filesystem::recursive_directory_iterator(copy, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ignore;
    if (it->is_symlink(ignore) || !it->is_regular_file(ignore)) continue;
    std::filesystem::last_write_time(it->path(), now, ignore);
    bool exec = (it->status(ignore).permissions() & std::filesystem::perms::owner_exec) !=
                std::filesystem::perms::none;
    std::filesystem::permissions(it->path(),
                                 exec ? std::filesystem::perms(0700) : std::filesystem::perms(0600), ignore);
  }
  return *tmp;
}

la_ssize_t append_to_string(archive*, void* client, const void* buf, size_t n) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

Result<PackedZip> zip_files(const std::vector<SourceFile>& files, int64_t mtime) {
  PackedZip out;
  out.mtime = mtime;
  UtcTimeZone utc;
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
  auto fail = [&](const std::string& what) {
    return Internal(what + ": " +
                    (archive_error_string(a.get()) ? archive_error_string(a.get()) : "libarchive error"));
  };
  if (archive_write_set_format_zip(a.get()) != ARCHIVE_OK) return fail("zip format");
  if (archive_write_set_format_option(a.get(), "zip", "compression", "deflate") != ARCHIVE_OK)
    return fail("zip deflate");
  std::string level = std::to_string(kZipDeflateLevel);
  if (archive_write_set_format_option(a.get(), "zip", "compression-level", level.c_str()) != ARCHIVE_OK)
    return fail("zip compression level");
  // Names are stored as UTF-8 with the zip's UTF-8 flag whatever the host locale (paths on disk are
  // taken to be UTF-8 already).
  if (archive_write_set_format_option(a.get(), "zip", "hdrcharset", "UTF-8") != ARCHIVE_OK)
    return fail("zip header charset");
  // No block padding after the central directory: the file ends where the zip ends.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out.bytes, nullptr, append_to_string, nullptr) != ARCHIVE_OK)
    return fail("opening zip writer");
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
  for (const auto& f : files) {
    auto content = read_file(f.abs);
    if (!content) return content.error();
    uint32_t mode = f.executable ? 0755 : 0644;
    archive_entry_clear(e.get());
    archive_entry_update_pathname_utf8(e.get(), f.rel.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(content->size()));
    archive_entry_set_mtime(e.get(), static_cast<time_t>(mtime), 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail("adding " + f.rel);
    if (!content->empty() && archive_write_data(a.get(), content->data(), content->size()) !=
                                 static_cast<la_ssize_t>(content->size()))
      return fail("writing " + f.rel);
    out.files.push_back({f.rel, sha256_hex(*content), content->size(), mode});
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("finishing zip");
  out.digest = Digest::of(out.bytes);
  return out;
}

}  // namespace

Result<int64_t> zip_mtime_from_env() {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  if (v == nullptr || *v == '\0') return kDefaultZipMtime;
  std::string_view s(v);
  int64_t t = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return InvalidArgument("SOURCE_DATE_EPOCH='" + std::string(s) + "' is not a whole number of seconds");
  t = std::clamp(t, kDosEpochMin, kDosEpochMax);
  return t - (t % 2);
}

Result<PackedZip> build_zip(const std::filesystem::path& dir, const ZipOptions& opts) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return NotFound("build dir " + dir.string() + " does not exist");
  if (!std::filesystem::is_directory(dir, ec))
    return InvalidArgument("build dir " + dir.string() + " is not a directory");
  int64_t mtime = 0;
  if (opts.mtime) {
    mtime = std::clamp(*opts.mtime, kDosEpochMin, kDosEpochMax);
    mtime -= mtime % 2;
  } else {
    auto m = zip_mtime_from_env();
    if (!m) return m.error();
    mtime = *m;
  }

  std::filesystem::path root = dir;
  std::filesystem::path scratch;
  if (opts.touch_mtimes) {
    auto copy = touched_copy(dir);
    if (!copy) return copy.error();
    scratch = *copy;
    root = scratch / "tree";
  }
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ignore;
      if (!p.empty()) std::filesystem::remove_all(p, ignore);
    }
  } cleanup{scratch};

  std::vector<SourceFile> files;
  Status s = walk(root, "", opts.reverse_walk, &files);
  if (!s.ok()) return s.error().context("packing " + dir.string());
  if (files.empty()) return InvalidArgument("packing " + dir.string() + ": build dir has no files");
  // The zip order is the bytewise order of the '/'-joined paths, whatever order the walk saw them in.
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.rel < b.rel; });
  auto zip = zip_files(files, mtime);
  if (!zip) return zip.error().context("packing " + dir.string());
  return zip;
}

Result<PackResult> store_zip(const PackedZip& zip, const PackRequest& req) {
  PackResult r;
  r.digest = zip.digest;
  r.zip_path = artifact_zip_path(req.store_dir, zip.digest);
  r.manifest_path = artifact_manifest_path(req.store_dir, zip.digest);
  r.manifest.digest = zip.digest;
  r.manifest.service = req.service;
  r.manifest.version = req.version;
  r.manifest.git_commit = req.git.commit;
  r.manifest.git_dirty = req.git.dirty;
  r.manifest.created_at = format_rfc3339(real_clock().now());
  r.manifest.mtime = zip.mtime;
  r.manifest.zip_size = zip.bytes.size();
  r.manifest.files = zip.files;
  r.manifest.build = req.build;
  r.manifest.python_deps = req.python_deps;

  std::error_code ec;
  if (std::filesystem::exists(r.zip_path, ec) && std::filesystem::exists(r.manifest_path, ec)) {
    auto existing = read_manifest(req.store_dir, zip.digest);
    if (existing) r.manifest = std::move(*existing);
    r.already_stored = true;
    return r;
  }
  VILLAGER_RETURN_IF_ERROR(ensure_dir(r.zip_path.parent_path()));
  Status s = write_file_atomic(r.zip_path, zip.bytes, std::filesystem::perms(0644));
  if (!s.ok()) return s.error().context("storing " + zip.digest.full());
  // The manifest last: a reader that finds it can trust the zip beside it is complete.
  s = write_file_atomic(r.manifest_path, manifest_to_json(r.manifest), std::filesystem::perms(0644));
  if (!s.ok()) return s.error().context("storing manifest of " + zip.digest.full());
  return r;
}

Result<PackResult> pack_directory(const PackRequest& req) {
  auto zip = build_zip(req.dir, req.zip);
  if (!zip) return zip.error();
  return store_zip(*zip, req);
}

}  // namespace villager::artifact
