#include "base/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace villager {

namespace {

Result<FileLock> lock(const std::filesystem::path& path, int how, auto make) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("opening lock " + path.string() + ": " + std::strerror(errno));
  while (::flock(fd, how) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Conflict(path.string() + " is held by another process");
    return Internal("locking " + path.string() + ": " + std::strerror(err));
  }
  return make(fd);
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::filesystem::path& path) {
  return lock(path, LOCK_EX, [](int fd) { return FileLock(fd); });
}

Result<FileLock> FileLock::try_acquire(const std::filesystem::path& path) {
  return lock(path, LOCK_EX | LOCK_NB, [](int fd) { return FileLock(fd); });
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace villager
