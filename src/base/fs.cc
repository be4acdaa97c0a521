#include "base/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace villager {

namespace {
std::string errno_text() {
  return std::strerror(errno);
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal("writing " + path.string() + ": " + errno_text());
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}
}  // namespace

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return NotFound(path.string() + ": no such file");
    return PermissionDenied(path.string() + ": cannot open: " + errno_text());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status write_file_atomic(const fs::path& path, std::string_view content, fs::perms mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmpXXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Internal("creating temp file in " + dir.string() + ": " + errno_text());
  ::fchmod(fd, static_cast<mode_t>(mode));
  Status s = write_all(fd, content, path);
  if (s.ok() && ::fsync(fd) != 0) s = Internal("fsync " + path.string() + ": " + errno_text());
  ::close(fd);
  if (s.ok() && ::rename(tmpl.c_str(), path.c_str()) != 0)
    s = Internal("renaming into " + path.string() + ": " + errno_text());
  if (!s.ok()) {
    ::unlink(tmpl.c_str());
    return s;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok();
}

Status append_file(const fs::path& path, std::string_view content, fs::perms mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return Internal("opening " + path.string() + ": " + errno_text());
  Status s = write_all(fd, content, path);
  ::close(fd);
  return s;
}

Status ensure_dir(const fs::path& path, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Internal("creating directory " + path.string() + ": " + ec.message());
  fs::permissions(path, mode, ec);
  return Ok();
}

Result<std::vector<std::string>> list_files(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return NotFound(root.string() + ": not a directory");
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(fs::relative(it->path(), root).generic_string());
  }
  if (ec) return Internal("walking " + root.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Result<fs::path> make_temp_dir(std::string_view prefix) {
  std::string tmpl = (fs::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) return Internal("mkdtemp: " + errno_text());
  return fs::path(tmpl);
}

}  // namespace villager
