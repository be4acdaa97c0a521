#include "artifact/unpack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "artifact/zip_reader.h"
#include "base/fs.h"
#include "base/strings.h"

namespace villager::artifact {

namespace {

Status check_entry_path(const std::string& path) {
  if (path.empty()) return InvalidArgument("an entry has an empty path");
  if (path.front() == '/') return InvalidArgument("entry '" + path + "' has an absolute path");
  if (path.find('\\') != std::string::npos)
    return InvalidArgument("entry '" + path + "' contains a backslash");
  if (path.find('\0') != std::string::npos) return InvalidArgument("entry path contains a NUL byte");
  std::string trimmed = path.back() == '/' ? path.substr(0, path.size() - 1) : path;
  for (const auto& part : split(trimmed, '/')) {
    if (part == "..") return InvalidArgument("entry '" + path + "' escapes the release directory ('..')");
    if (part.empty() || part == ".")
      return InvalidArgument("entry '" + path + "' has an empty or '.' component");
  }
  return Ok();
}

Status write_new_file(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  // O_EXCL|O_NOFOLLOW: never write through something already there.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("creating " + path.string() + ": " + std::strerror(errno));
  std::string_view rest = content;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Internal("writing " + path.string() + ": " + std::strerror(err));
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  ::fchmod(fd, mode);
  ::close(fd);
  return Ok();
}

}  // namespace

Status unpack_artifact(const std::filesystem::path& zip, const std::filesystem::path& dest) {
  const std::string ctx = "unpacking " + zip.string() + " into " + dest.string();
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(dest, ec)))
    return Conflict(ctx + ": destination already exists");
  auto bytes = read_file(zip);
  if (!bytes) return bytes.error().context(ctx);
  auto entries = read_zip(*bytes);
  if (!entries) return entries.error().context(ctx);

  // Validate everything before writing anything.
  std::set<std::string> seen;
  for (const auto& e : *entries) {
    Status s = check_entry_path(e.path);
    if (!s.ok()) return s.error().context(ctx);
    if (!e.is_dir && !e.is_regular)
      return InvalidArgument(ctx + ": entry '" + e.path + "' is a link or special file");
    std::string key = e.path.back() == '/' ? e.path.substr(0, e.path.size() - 1) : e.path;
    if (!seen.insert(key).second) return InvalidArgument(ctx + ": entry '" + e.path + "' appears twice");
  }

  std::filesystem::path parent = dest.parent_path().empty() ? std::filesystem::path(".") : dest.parent_path();
  VILLAGER_RETURN_IF_ERROR(ensure_dir(parent));
  std::string tmpl = (parent / ("." + dest.filename().string() + ".unpackXXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) return Internal(ctx + ": mkdtemp: " + std::strerror(errno));
  std::filesystem::path scratch = tmpl;
  auto fail = [&](const Error& err) {
    std::error_code ignore;
    std::filesystem::remove_all(scratch, ignore);
    return err.context(ctx);
  };
  for (const auto& e : *entries) {
    std::filesystem::path target = scratch / e.path;
    if (e.is_dir) {
      std::filesystem::create_directories(target, ec);
      if (ec) return fail(Internal("creating " + e.path + ": " + ec.message()));
      continue;
    }
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) return fail(Internal("creating folder for " + e.path + ": " + ec.message()));
    Status s = write_new_file(target, e.content, (e.mode & 0100) ? 0755 : 0644);
    if (!s.ok()) return fail(s.error());
  }
  std::filesystem::permissions(scratch, std::filesystem::perms(0755), ec);
  if (::rename(scratch.c_str(), dest.c_str()) != 0)
    return fail(Internal(std::string("moving into place: ") + std::strerror(errno)));
  return Ok();
}

}  // namespace villager::artifact
